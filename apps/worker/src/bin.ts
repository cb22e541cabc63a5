#!/usr/bin/env node
// `node apps/worker/dist/bin.js`: a worker process configured from the environment (see process.ts).
import { runWorkerProcess } from './process.js';

await runWorkerProcess();
