"""Simulate isotherms from Python: a slit, a square pore and a random grid."""

import numpy as np

from invtoolkit.hooks import registry


def main(size: int = 20) -> np.ndarray:
    simulator = registry.create("simulator", "lattice-dft")
    slit = np.zeros((size, size), np.uint8)
    slit[:, size // 4 : size // 2] = 1
    square = np.zeros((size, size), np.uint8)
    square[2:-2, 2:-2] = 1
    random = (np.random.default_rng(0).random((size, size)) < 0.5).astype(np.uint8)
    curves = simulator.simulate(np.stack([slit, square, random]))
    n_ads = simulator.schedule.steps + 1
    for name, curve in zip(["slit", "square", "random"], curves):
        ads, des = curve[:n_ads], curve[n_ads - 1 :][::-1]
        step = simulator.pressures[np.argmax(np.diff(ads)) + 1]
        print(f"{name:7s} largest adsorption step at RH={step:.3f}, widest hysteresis {np.max(des - ads):.3f}")
    return curves


if __name__ == "__main__":
    main()
