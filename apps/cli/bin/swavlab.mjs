#!/usr/bin/env node
// The `swavlab` command: the compiled CLI lives in ../dist (build with `npx tsc -b apps/cli`).
import '../dist/main.js';
