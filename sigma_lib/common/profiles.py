"""Every profile of the book in one place: the parameter sets of each chapter and of the recursion run.

A profile names a size: ``test`` (the nbval regression run, seconds), ``default`` (the book on a
2-core CPU), and for the recursion also ``smoke`` (= ``test``), ``real-cpu`` and ``paper``. Each
chapter resolves its own table with :func:`sigma_lib.common.params.resolve_profile` and checks the
values; parameters left out here (the ridge ``eps``) take the library default where they are used.
Where each profile writes: :data:`OUTPUT_FOLDERS` (what ``make book`` and ``make notebooks-test``
pass as ``output_dir``).
"""
from __future__ import annotations

#: ``outputs/<folder>/<chapter>``: where a chapter run with this profile writes (the Makefile's
#: ``book`` target uses ``default``, ``notebooks-test`` uses ``nbval``).
OUTPUT_FOLDERS = {"default": "default", "test": "nbval", "smoke": "nbval"}

#: The theorem chapter (simulations of Theorems 1-3 and of the tracks); ``default`` takes <= 3 min on 2 cores.
THEOREMS: dict[str, dict] = {
    "test": dict(
        seed=0, theorem1_d=8, theorem1_reps=20, anisotropies=[1, 10, 100], ratio_reps=3,
        scaling_d=16, scaling_Ns=[64, 256, 1024, 4096], scaling_reps=5,
        coverage_grid=[(16, 256, 4096), (64, 512, 4096)], coverage_reps=20,
        half_widths=[2.0, 1.0], sample_size_d=32, sample_size_reps=10,
        track_d=32, track_ms=[64, 256, 1024], track_reps=5, track_reference_n=50_000,
        beyond_grid=[(32, 256, 2048)], beyond_reps=20,
        sigma_grid=[(32, 128, 1024), (64, 128, 1024)], sigma_reps=40,
        nongauss_grid=[(16, 128, 1024)], nongauss_reps=30, nongauss_df=5.0,
        clt_ds=[16, 64, 384], clt_ms=[512, 8192, 131072, 2097152], clt_N_factor=8.0, clt_reps=200,
    ),
    "default": dict(
        seed=0, theorem1_d=16, theorem1_reps=200, anisotropies=[1, 10, 100, 1000], ratio_reps=20,
        scaling_d=64, scaling_Ns=[128, 256, 512, 1024, 2048, 4096, 8192, 16384], scaling_reps=30,
        coverage_grid=[(16, 256, 4096), (64, 512, 4096), (384, 512, 4096),
                       (384, 512, 8192), (384, 1024, 8192), (384, 2048, 8192)],
        coverage_reps=200,
        half_widths=[2.0, 1.0, 0.5, 0.25], sample_size_d=64, sample_size_reps=40,
        track_d=64, track_ms=[96, 128, 256, 512, 1024, 4096, 16384], track_reps=20, track_reference_n=400_000,
        beyond_grid=[(64, 512, 4096), (384, 1024, 8192)], beyond_reps=100,
        sigma_grid=[(32, 128, 4096), (64, 256, 4096), (128, 256, 4096), (384, 512, 4096), (384, 2048, 8192)],
        sigma_reps=400,
        nongauss_grid=[(16, 256, 4096), (64, 512, 4096)], nongauss_reps=300, nongauss_df=5.0,
        clt_ds=[16, 32, 64, 128, 256, 384], clt_ms=[4**k for k in range(4, 14)], clt_N_factor=8.0, clt_reps=2000,
    ),
}

#: The drift-bias study of the theorem chapter; ``default`` at the book run's sizes (d = 384, m = 512).
DRIFT_BIAS: dict[str, dict] = {
    "test": dict(d=16, m=64, base_kappa=10.0, kappas=[10.0, 100.0, 1000.0], reps=20, reference_n=20_000, seed=0),
    "default": dict(d=384, m=512, base_kappa=10.0, kappas=[10.0, 100.0, 1000.0], reps=30, reference_n=100_000,
                    seed=0),
}

#: The corpus chapter. Both only verify the frozen snapshot unless ``mode="rebuild"`` (then the
#: pipeline runs on the installed Debian packages, ~3 minutes).
CORPUS: dict[str, dict] = {
    "test": dict(mode="verify", n_contexts=1200, n_heldout=200, stride=64, seed=0, examples_per_source=1),
    "default": dict(mode="verify", n_contexts=1200, n_heldout=200, stride=64, seed=0, examples_per_source=2),
}

#: The recursion run (overrides of :class:`sigma_lib.recursion.config.RunConfig`'s defaults; App. C.3
#: for ``paper``). ``smoke``: tests, seconds. ``default``: the book on a 2-core CPU, the small GPT of
#: ``data/models/gpt-small.json`` trained from scratch on all 1,200 TECH contexts, then S1 and S2 beside
#: the two main controls (``repeat-real``: alpha = 1 on the same real contexts; ``accumulate``) on 600 of them,
#: 2 epochs per generation at a larger step (3e-4) so that the four settings fit the book's 15-minute budget;
#: after generation 0 the settings run in three one-thread processes (``workers``: S1 and S2, repeat-real,
#: accumulate), which share the two cores more evenly than two processes, since accumulate's training
#: set grows every generation. The committed small-model runs under ``runs/controls`` and
#: ``runs/default-seeds`` were made in one two-thread process, which ``make run-controls`` and
#: ``make run-seed`` keep.
#: ``real-cpu``: the pretrained SmolLM2-135M on a 2-core CPU, with the budget cuts of
#: ``recursion.config.REAL_CPU_CUTS``; ``real-rep``: its
#: replicated study (seeds, the new-real control, more generations).
#: ``paper``: the paper's protocol on a GPU.
RECURSION: dict[str, dict] = {
    "smoke": dict(profile="smoke", settings=("S1", "S2", "repeat-real", "accumulate"), generations=2,
                  base_model="gpt-tiny", n_contexts=32, n_heldout=16, responses_per_prompt=3, continuation_tokens=16,
                  response_tokens=8, epochs=1, base_epochs=2,
                  lr=1e-3, m=400, n_draws=10, reseed_baseline=True, threads=1),
    "default": dict(profile="default", settings=("S1", "S2", "repeat-real", "accumulate"), generations=4,
                    base_model="gpt-small", n_contexts=600, base_contexts=1200, responses_per_prompt=4,
                    continuation_tokens=64, response_tokens=64, epochs=2, base_epochs=10, lr=3e-4, m=512,
                    sample_batch_size=256, embed_batch_size=128, threads=1, workers=3),
    "real-cpu": dict(profile="real-cpu", settings=("S1", "S2", "repeat-real"), generations=5, base_model="smollm2-135m",
                     precision="bf16", n_contexts=256, n_heldout=100, responses_per_prompt=3, continuation_tokens=64,
                     response_tokens=32, epochs=2, lr=1e-4, m=448, sample_batch_size=128, embed_batch_size=128,
                     keep_checkpoints="last", suppress_special_tokens=True),
    # The replicated real-LM study (issue 20): real-cpu's workload, one run folder per seed. float32
    # because the 2-core machines of this workplace may lack AMX, where bf16 matmuls run at half
    # fp32's speed (benchmarks/bench_recursion.py); seed 0 goes on to 20 generations with
    # --set generations=20 (generations and settings may grow when a run resumes).
    "real-rep": dict(profile="real-rep", settings=("S1", "S2", "new-real"), generations=10, base_model="smollm2-135m",
                     precision="fp32", fused_adamw=True, index_seed=0, n_contexts=256, n_heldout=100,
                     responses_per_prompt=3, continuation_tokens=64, response_tokens=32, epochs=2, lr=1e-4, m=448,
                     sample_batch_size=128, embed_batch_size=128, keep_checkpoints="last", suppress_special_tokens=True,
                     threads=2),
    "paper": dict(profile="paper", generations=50, base_model="smollm2-135m", device="cuda", precision="bf16",
                  responses_per_prompt=4, continuation_tokens=64, response_tokens=256, epochs=5, lr=5e-5,
                  m=512, keep_checkpoints="last", sample_batch_size=512, embed_batch_size=512, threads=8,
                  suppress_special_tokens=True),
}
RECURSION["test"] = RECURSION["smoke"]  # every chapter's small profile is called "test" too (make notebooks-test)

#: The chapter "Sigma against known answers": recursive Gaussian fitting beside its exact law, Sigma-UB
#: on the same process, and a dose-response on theta_0's stored responses. Grid: ``ds`` x ``ns`` with
#: ``n > d`` per setting; cells with ``n d > sufficient_above_nd`` draw each batch's sufficient statistics
#: (exact law) instead of its points; ``accumulate-subsample`` runs where ``n d <= subsample_max_nd``.
#: ``sigma_cells``: ``[d, n]`` cells of ``replace`` on which Sigma-UB is measured (``sigma_N`` points per
#: evaluation, observed block ``sigma_m``, ``sigma_draws`` re-drawn index sets). ``dose_runs``: committed
#: runs under ``runs/`` or ``"recursion"`` (the recursion chapter's run); ``default`` reads the small model's
#: theta_0 from the committed ``runs/controls``, so that the chapter need not wait for the recursion run
#: in ``make book``. ``default`` takes <= 2 min on 2 cores (one real-data fraction there, alpha-0.1: each
#: further fraction adds about 15 s).
KNOWN_ANSWERS: dict[str, dict] = {
    "test": dict(seed=0, ds=[1, 3], ns=[10, 32], generations=10, replicates=100,
                 settings=["replace", "accumulate", "accumulate-subsample", "alpha-0.1", "alpha-0.5"],
                 sufficient_above_nd=30, subsample_max_nd=1000,
                 sigma_cells=[[3, 10]], sigma_N=200, sigma_m=50, sigma_draws=5,
                 naive_cells=[[3, 10]], naive_replicates=20,
                 dose_qs=[0.0, 0.05, 0.3, 0.6, 0.9], dose_draws=3, noise_splits=4, dose_runs=["real-cpu"]),
    "default": dict(seed=0, ds=[1, 3, 10, 31, 100], ns=[10, 32, 100, 316, 1000], generations=100, replicates=100,
                    settings=["replace", "accumulate", "accumulate-subsample", "alpha-0.1"],
                    sufficient_above_nd=3200, subsample_max_nd=1000,
                    sigma_cells=[[3, 10], [10, 100], [10, 1000]], sigma_N=600, sigma_m=200, sigma_draws=10,
                    naive_cells=[[3, 10], [10, 32], [31, 32]], naive_replicates=100,
                    dose_qs=[0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], dose_draws=6,
                    noise_splits=12, dose_runs=["real-cpu", "controls"]),
}

#: The chapter "Run to run" (issues 20 and 24): replicates of the book's default run under ``runs/``.
#: ``seed_runs``: runs whose seed changes theta_0, the index sets and the recursion; ``kept_runs``: runs
#: that keep seed 0's theta_0 and index sets and change only the recursion's seed; ``book_run``: add the
#: recursion chapter's run (seed 0; the test profile's is the smoke protocol, not a replicate).
REPLICATES: dict[str, dict] = {
    "test": dict(seed_runs=["default-seeds/seed-1", "default-seeds/seed-2"],
                 kept_runs=["default-seeds/seed-1-theta0-kept"], book_run=False, n_draws=5),
    "default": dict(seed_runs=["default-seeds/seed-1", "default-seeds/seed-2"],
                    kept_runs=["default-seeds/seed-1-theta0-kept"], book_run=True, n_draws=30),
}

#: the results and real-LM chapters: bootstrap draws of the surface proxies' bands (distinct-2, HHI)
CLAIMS: dict[str, dict] = {
    # recompute_all: the real-LM chapter recomputes every committed checkpoint of the study (the
    # test profile only generation 0 and the last of each folder; the checksums cover every file)
    "test": dict(n_boot=10, recompute_all=False),
    "default": dict(n_boot=30, recompute_all=True),
}

#: the collapse chapter: bootstrap draws of the one-run bands of the bootstrapped signals
COLLAPSE: dict[str, dict] = {
    "test": dict(n_draws=5),
    "default": dict(n_draws=30),
}
