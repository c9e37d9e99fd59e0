"""Design by properties from Python: a heat-pump spec -> verified designs and a front.

Reads examples/specs/heat_pump.toml (step in 10-20 % RH, loop <= 0.05, uptake at
5 % RH <= 0.1; maximise the adsorption capacity 5 -> 25 % RH and the porosity),
searches with the exact lattice DFT, and writes best.npy, pareto.npy, report.json
and the plots, as ``invtoolkit design --spec ... -o ...`` does.
"""

from pathlib import Path

from invtoolkit.design import design, read_spec, write_results

SPEC = Path(__file__).resolve().parent / "specs" / "heat_pump.toml"


def main(output: str = "design_out", budget: int = 40_000, seed: int = 0, shape=(20, 20), time_limit=None):
    spec = read_spec(SPEC)
    result = design(spec, budget=budget, time_limit=time_limit, seed=seed, shape=shape)  # the limit: a cap
    write_results(output, result)
    labels = [e.label for e in spec.constraints + spec.objectives]
    print(f"{result.search['simulated']} grids simulated by {result.search['algorithm']}")
    for row, ok in zip(result.best.values[:3], result.best.feasible[:3]):
        print(("feasible  " if ok else "infeasible") + ", ".join(f"{k} {v:.3f}" for k, v in zip(labels, row)))
    print(f"{len(result.pareto)} designs on the front; best capacity {result.best_value}")
    return result


if __name__ == "__main__":
    main()
