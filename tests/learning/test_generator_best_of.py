"""The deconv generator's best-of-k (relaxed winner-takes-all) training term."""

import numpy as np
import pytest
import torch
from test_generator import SMALL, TinySurrogate, realisable_curves

from invtoolkit.hooks import registry
from invtoolkit_plugins.deconv import BEST_OF_MEAN_SHARE


class PorositySurrogate:
    """Every point of the 'isotherm' is the grid's porosity: a grid's MAE against a flat
    target c is |porosity - c|, computable by hand."""

    name = "porosity"

    def forward_torch(self, x):
        return x.flatten(1).mean(1, keepdim=True).expand(-1, 41)


def test_best_of_loss_is_the_relaxed_minimum_over_each_targets_codes():
    gen = registry.create("generator", "deconv", **SMALL)
    gen.model.eval()
    b, k = 3, 4
    curves = torch.tensor([[0.2] * 41, [0.5] * 41, [0.8] * 41])
    z = gen.latent_codes(b * k, seed=1)  # code block j = z[j*b:(j+1)*b], one code per target
    with torch.no_grad():
        grids = gen.model.generator(curves.repeat(k, 1), z)
        loss, mae, _, _ = gen._loss(PorositySurrogate(), curves, z, info_weight=0.0, diversity_weight=0.0,
                                    best_of=k)
    porosity = grids.flatten(1).mean(1).numpy().reshape(k, b)
    err = np.abs(porosity - np.array([0.2, 0.5, 0.8]))  # (codes, targets)
    opening = np.maximum(2 / 400 - porosity, 0).mean()
    expected = (1 - BEST_OF_MEAN_SHARE) * err.min(0).mean() + BEST_OF_MEAN_SHARE * err.mean() + opening
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    assert mae.item() == pytest.approx(err.mean(), abs=1e-6)  # the reported MAE stays the plain mean
    with torch.no_grad():  # best_of=1: every code alone
        plain, _, _, _ = gen._loss(PorositySurrogate(), curves, z, info_weight=0.0, diversity_weight=0.0)
    assert plain.item() == pytest.approx(err.mean() + opening, abs=1e-6)


def test_best_of_training_lowers_the_best_of_k_error_and_is_kept_in_the_recipe(tmp_path):
    torch.set_num_threads(1)
    surrogate = TinySurrogate()
    curves, val = realisable_curves(192, seed=1), realisable_curves(48, seed=2)
    gen = registry.create("generator", "deconv", **SMALL)
    val_t = torch.tensor(val[:, :41], dtype=torch.float32)
    codes = gen.latent_codes(4, seed=9)
    before = gen.surrogate_best_of_mae(surrogate, val_t, codes)
    history = gen.fit(surrogate, curves, val_targets=val, epochs=4, batch_size=64, lr=2e-3, seed=0, best_of=4)
    after = gen.surrogate_best_of_mae(surrogate, val_t, codes)
    assert after < 0.6 * before, (before, after)
    assert len(history["val_best_of"]) == 4 and all(np.isfinite(history["val_best_of"]))
    # the best of k codes is never worse than the first code alone
    assert after <= gen.surrogate_mae(surrogate, val_t, codes[:1].expand(len(val_t), -1)) + 1e-9
    assert gen.fit_settings["best_of"] == 4
    gen.save(tmp_path / "g", extra={"training": gen.fit_settings})
    again = registry.create("generator", "deconv", model=str(tmp_path / "g"))
    again.fit(surrogate, curves[:16], epochs=1, batch_size=16, seed=0)
    assert again.fit_settings["best_of"] == 4  # fine-tuning continues the recipe
