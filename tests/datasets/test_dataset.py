"""Dataset stores: round trip, commit protocol, resume after SIGKILL, refusals, dask."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.datasets.dataset import Dataset, generate, isotherm_features, shape_classes
from invtoolkit.errors import InputError
from invtoolkit.core.symmetry import distinct_up_to_symmetry

# small and independent of the fast solver's JIT: the numpy reference solver on 6x6
# grids with a 10-step schedule labels a few hundred grids per second
SIM = {"solver": "reference", "steps": 10}
CLI_SIM = ["--grid", "6x6", "--param", "solver=reference", "--param", "steps=10", "--sampler", "random"]


def small(path, n, **kw):
    opts = dict(sampler="random", seed=5, shape=(6, 6), simulator_options=SIM, chunk_size=16)
    opts.update(kw)
    return generate(path, n, **opts)


def content(path):
    ds = Dataset.open(path)
    grids, curves = ds.load()
    return grids, curves, ds.attrs


def same_content(a, b):
    ga, ca, attrs_a = content(a)
    gb, cb, attrs_b = content(b)
    assert np.array_equal(ga, gb)
    assert np.array_equal(ca, cb)
    assert attrs_a["length"] == attrs_b["length"]


def test_create_append_load_round_trip(tmp_path):
    pressures = np.linspace(0, 1, 5)
    ds = Dataset.create(tmp_path / "d.zarr", shape=(4, 5), simulator_name="sim", simulator_params={"T": 1.0},
                        pressures=pressures, sampler="random", seed=3, chunk_size=4)
    rng = np.random.default_rng(0)
    grids = (rng.random((10, 4, 5)) < 0.5).astype(np.uint8)
    curves = rng.random((10, 5)).astype(np.float32)
    ds.append(grids[:7], curves[:7])
    ds.append(grids[7:], curves[7:])
    again = Dataset.open(tmp_path / "d.zarr")
    assert len(again) == 10 and again.shape == (4, 5)
    g, c = again.load()
    assert np.array_equal(g, grids) and np.array_equal(c, curves) and c.dtype == np.float32
    g, c = again.load(3, 6)
    assert np.array_equal(g, grids[3:6]) and np.array_equal(c, curves[3:6])
    assert np.array_equal(again.pressures, pressures)
    attrs = again.attrs
    assert (attrs["simulator"], attrs["simulator_params"], attrs["sampler"], attrs["seed"]) == (
        "sim", {"T": 1.0}, "random", 3)
    assert again.grids.shape == (10, 4, 5) and again.curves.shape == (10, 5)
    with pytest.raises(InputError, match="read-only"):
        again.append(grids[:1], curves[:1])
    with pytest.raises(InputError, match="already exists"):
        Dataset.create(tmp_path / "d.zarr", shape=(4, 5), simulator_name="s", simulator_params={},
                       pressures=pressures)


def test_uncommitted_rows_are_invisible_and_dropped(tmp_path):
    ds = Dataset.create(tmp_path / "d.zarr", shape=(3, 3), simulator_name="s", simulator_params={},
                        pressures=[0.0, 1.0], chunk_size=2)
    ds.append(np.ones((3, 3, 3), np.uint8), np.zeros((3, 2), np.float32))
    # a writer killed after its data but before its commit
    ds.grids.resize((5, 3, 3))
    ds.grids[3:5] = 0
    assert len(Dataset.open(tmp_path / "d.zarr")) == 3
    assert Dataset.open(tmp_path / "d.zarr").load()[0].shape == (3, 3, 3)
    reopened = Dataset.open(tmp_path / "d.zarr", mode="r+")
    assert reopened.grids.shape[0] == 3


def test_generate_labels_with_the_simulator_and_drops_symmetric_duplicates(tmp_path):
    ds = small(tmp_path / "d.zarr", 40)
    grids, curves = ds.load()
    assert len(ds) == 40 and grids.shape == (40, 6, 6)
    sim = registry.create("simulator", "lattice-dft", **SIM)
    assert np.allclose(curves, sim.simulate(grids), atol=1e-6)
    assert distinct_up_to_symmetry(grids) == 40
    assert ds.attrs["chunks_done"] == 2 and ds.attrs["simulator_params"] == sim.params


def test_extending_equals_one_run_and_rerun_is_a_no_op(tmp_path):
    small(tmp_path / "a.zarr", 20)  # ends inside chunk 1
    small(tmp_path / "a.zarr", 45)
    small(tmp_path / "a.zarr", 45)
    small(tmp_path / "b.zarr", 45)
    same_content(tmp_path / "a.zarr", tmp_path / "b.zarr")


def test_resume_after_uncommitted_tail(tmp_path):
    ds = small(tmp_path / "a.zarr", 32)
    # leave garbage after the first chunk, as a kill between write and commit does
    ds._group.attrs.update({"length": 16, "generated": 16, "chunks_done": 1})
    ds.grids[16:32] = 1
    small(tmp_path / "a.zarr", 48)
    small(tmp_path / "b.zarr", 48)
    same_content(tmp_path / "a.zarr", tmp_path / "b.zarr")


def test_refuses_to_append_with_other_options(tmp_path):
    path = tmp_path / "d.zarr"
    small(path, 16)
    before = content(path)
    for kw, why in [
        (dict(seed=6), "seed"),
        (dict(shape=(7, 7)), "grid size 6x6"),
        (dict(sampler="slit"), "sampler"),
        (dict(simulator_options={**SIM, "T": 300.0}), "simulator parameters"),
        (dict(simulator_options={**SIM, "normalization": "site"}), "simulator parameters"),
        (dict(chunk_size=8), "chunk size"),
    ]:
        with pytest.raises(InputError, match=why):
            small(path, 32, **kw)
    after = content(path)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


def run_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "invtoolkit.cli", *args], capture_output=True, text=True, **kw)


def test_cli_bad_stores_exit_2_and_change_nothing(tmp_path):
    import zarr

    foreign = tmp_path / "foreign.zarr"
    g = zarr.open_group(str(foreign), mode="w")
    g.create_array("x", data=np.arange(3))
    corrupt = tmp_path / "corrupt.zarr"
    small(corrupt, 16)
    (corrupt / "zarr.json").write_text("{not json")
    afile = tmp_path / "file.zarr"
    afile.write_text("hello")

    def snapshot(p):
        if p.is_file():
            return p.read_bytes()
        return {str(f): f.read_bytes() for f in sorted(p.rglob("*")) if f.is_file()}

    for store in (foreign, corrupt, afile, tmp_path / "missing.zarr"):
        before = snapshot(store) if store.exists() else None
        info = run_cli("dataset", "info", str(store))
        assert info.returncode == 2, info.stderr
        assert info.stderr.startswith("Error: ") and str(store) in info.stderr
        assert "Traceback" not in info.stderr
        if store.exists():
            gen = run_cli("dataset", "generate", "-o", str(store), "--n", "8", *CLI_SIM, "--no-progress")
            assert gen.returncode == 2 and "Traceback" not in gen.stderr, gen.stderr
            assert snapshot(store) == before
    first = run_cli("dataset", "generate", "-o", str(tmp_path / "ok.zarr"), "--n", "8", *CLI_SIM,
                              "--no-progress")
    assert first.returncode == 0, first.stderr
    refused = run_cli("dataset", "generate", "-o", str(tmp_path / "ok.zarr"), "--n", "16", *CLI_SIM, "--seed", "9")
    assert refused.returncode == 2 and "seed" in refused.stderr


def committed(path) -> int:
    try:
        return json.loads((path / "zarr.json").read_text())["attributes"]["length"]
    except (OSError, ValueError, KeyError):
        return 0


def test_sigkill_mid_run_then_rerun_equals_an_uninterrupted_run(tmp_path):
    n, chunk = 320, 16
    args = ["dataset", "generate", "--n", str(n), "--chunk-size", str(chunk), "--seed", "3", *CLI_SIM, "--no-progress"]
    killed = tmp_path / "killed.zarr"
    for kill_after in (2 * chunk, 8 * chunk):  # two kills at different points
        proc = subprocess.Popen([sys.executable, "-m", "invtoolkit.cli", *args, "-o", str(killed)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while committed(killed) < kill_after and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before it could be killed: " + proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        assert kill_after <= committed(killed) < n
    assert run_cli(*args, "-o", str(killed)).returncode == 0
    whole = run_cli(*args, "-o", str(tmp_path / "whole.zarr"))
    assert whole.returncode == 0, whole.stderr
    same_content(killed, tmp_path / "whole.zarr")
    assert len(Dataset.open(killed)) == n


def test_workers_and_dask_cluster_give_the_same_store(tmp_path):
    distributed = pytest.importorskip("distributed")
    small(tmp_path / "local.zarr", 48)
    small(tmp_path / "pool.zarr", 48, workers=2)
    same_content(tmp_path / "local.zarr", tmp_path / "pool.zarr")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        small(tmp_path / "dask.zarr", 48, scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:  # a Client object works too
            small(tmp_path / "dask2.zarr", 48, scheduler=client)
    same_content(tmp_path / "local.zarr", tmp_path / "dask.zarr")
    same_content(tmp_path / "local.zarr", tmp_path / "dask2.zarr")


def test_isotherm_features_on_hand_made_curves():
    p_ads = np.linspace(0, 1, 11)
    pressures = np.concatenate([p_ads, p_ads[-2::-1]])
    one_step = np.where(p_ads >= 0.55, 1.0, 0.05)  # jump between 0.5 and 0.6
    two_steps = np.where(p_ads >= 0.25, 0.5, 0.0) + np.where(p_ads >= 0.85, 0.5, 0.0)
    steep = np.minimum(1.0, p_ads * 10)  # 1.0 from RH 0.1
    # desorption stays full down to 0.3, then follows adsorption: loop over RH 0.3..0.5
    des = np.where(p_ads >= 0.25, 1.0, 0.05)
    curves = np.stack([
        np.concatenate([one_step, des[-2::-1]]),
        np.concatenate([two_steps, two_steps[-2::-1]]),
        np.concatenate([steep, steep[-2::-1]]),
    ])
    f = isotherm_features(curves, pressures)
    assert np.allclose(f["step_pressure"], [0.55, 0.25, 0.05])
    assert f["n_steps"].tolist() == [1, 2, 1]
    assert np.allclose(f["loop_width"], [0.3, 0.0, 0.0])  # points 0.3, 0.4, 0.5
    assert f["uptake_low"].tolist() == [0.05, 0.0, 1.0]
    classes = shape_classes(f)
    assert classes["step at mid RH"].tolist() == [True, False, False]
    assert classes["multiple steps"].tolist() == [False, True, False]
    assert classes["steep low-pressure uptake"].tolist() == [False, False, True]
    assert classes["wide hysteresis (>0.1)"].tolist() == [True, False, False]
    # site-normalised curves: divided by the porosity first
    half = isotherm_features(curves * 0.5, pressures, porosity=np.full(3, 0.5))
    assert np.allclose(half["loop_width"], f["loop_width"])


def test_cli_info_and_plot(tmp_path):
    path = tmp_path / "d.zarr"
    small(path, 32)
    info = run_cli("dataset", "info", str(path), "--json", "--distinct")
    assert info.returncode == 0, info.stderr
    report = json.loads(info.stdout)
    assert report["grids"] == 32 and report["grid_shape"] == [6, 6] and report["distinct_up_to_symmetry"] == 32
    assert sum(report["steps_count"].values()) == 32
    text = run_cli("dataset", "info", str(path))
    assert "position of the largest step" in text.stdout
    png = tmp_path / "fig.png"
    plot = run_cli("dataset", "plot", str(path), "-o", str(png))
    assert plot.returncode == 0, plot.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
