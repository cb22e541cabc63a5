"""Makes `import swavlab` work from the tests and pins torch's thread count for the 2-core CI machine."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
torch.set_num_threads(2)
