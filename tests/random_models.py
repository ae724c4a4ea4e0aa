"""Seeded random BQMs shared by the exact-sampler tests."""

import dimod
import numpy as np


def random_bqm(seed: int) -> dimod.BinaryQuadraticModel:
    """A BQM of 1..12 variables: mixed generators, vartypes, offsets and label types."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 13))
    vartype = dimod.SPIN if seed % 2 else dimod.BINARY
    if seed % 3 == 0:
        bqm = dimod.generators.gnp_random_bqm(
            n,
            float(rng.uniform(0.2, 1.0)),
            vartype,
            random_state=seed,
            bias_generator=lambda size: rng.uniform(-2.0, 2.0, size),
        )
    elif seed % 3 == 1 and n >= 2:
        bqm = dimod.generators.ran_r(int(rng.integers(1, 4)), n, seed=seed).change_vartype(vartype)
    else:
        bqm = dimod.generators.randint(n, vartype, low=-5, high=5, seed=seed)
    bqm.offset = float(rng.uniform(-10, 10))
    relabel = [lambda i: i, lambda i: f"v{i}", lambda i: ("t", i), lambda i: (i, ("nested", str(i)))][seed % 4]
    return bqm.relabel_variables({v: relabel(v) for v in bqm.variables}, inplace=False)
