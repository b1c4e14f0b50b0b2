# Largest relative error between two PEFT adapter files over every tensor: max|a − b| / max|b| per tensor,
# the same measure as the engine tests' maxRelErr, then the largest absolute difference. Prints two numbers.
#   python3 tools/compare_adapters.py ours.safetensors reference.safetensors
import sys

import golden_model as gm

a, b = gm.load_safetensors(sys.argv[1]), gm.load_safetensors(sys.argv[2])
assert sorted(a) == sorted(b), "different tensor names"
rel = max(float((a[k] - b[k]).abs().max() / b[k].abs().max().clamp_min(1e-30)) for k in b)
print(rel, max(float((a[k] - b[k]).abs().max()) for k in b))
