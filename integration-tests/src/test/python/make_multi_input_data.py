"""Labelled data for a model with two inputs, 'left' and 'right' (6 values each), as the Keras fixture
merge_multi_io takes them: an .npz with one array per input (named after it) and labels y in {0, 1, 2}
that depend on both inputs, so a model fed only one of them cannot learn them.

usage: make_multi_input_data.py OUT.npz N SEED
"""
import sys

import numpy as np


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    out, n, seed = argv[1], int(argv[2]), int(argv[3])
    rng = np.random.default_rng(seed)
    left = rng.normal(size=(n, 6)).astype("float32")
    right = rng.normal(size=(n, 6)).astype("float32")
    scores = np.stack([left[:, 0] + left[:, 1], right[:, 0] + right[:, 1], left[:, 2] - right[:, 2]], axis=1)
    np.savez(out, left=left, right=right, y=scores.argmax(axis=1).astype("int64"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
