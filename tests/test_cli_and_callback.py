"""The `sigma` command line end to end, and the training callback inside a Trainer."""
import csv
import json
import warnings

import numpy as np
import pytest

from sigma_lib.apps.cli import main

WORDS = ("index query table cache thread lock memory pointer compiler kernel socket packet stream buffer "
         "schema column row page file disk process signal queue stack heap graph tree hash key value").split()


def random_texts(n, seed, n_words=12):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=n_words)) + f" {i}" for i in range(n)]


@pytest.fixture
def npys(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((600, 16)).astype(np.float32)
    b = rng.standard_normal((600, 16)).astype(np.float32)
    b[:, 8:] *= 0.3  # contraction
    np.save(tmp_path / "g0.npy", a)
    np.save(tmp_path / "g1.npy", b)
    return tmp_path


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_score_npy_with_csv_and_plot(npys, capsys):
    csv_path, png = npys / "t.csv", npys / "drift.png"
    code, out, err = run(["score", str(npys / "g0.npy"), str(npys / "g1.npy"), "--m", "100", "--n-draws", "20",
                          "--csv", str(csv_path), "--plot", str(png), "--quiet"], capsys)
    assert code == 0, err
    assert "drift_U" in out and "g1.npy" in out
    rows = list(csv.DictReader(open(csv_path)))
    assert float(rows[0]["drift_U"]) == 0.0
    assert float(rows[1]["drift_U"]) < -5 * float(rows[1]["noise_U"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_streaming_gives_the_same_numbers(npys, capsys):
    outs = []
    for chunk in ("7", "100000"):
        path = npys / f"c{chunk}.csv"
        assert run(["score", str(npys / "g0.npy"), str(npys / "g1.npy"), "--m", "100", "--n-draws", "5",
                    "--chunk-size", chunk, "--csv", str(path), "--quiet"], capsys)[0] == 0
        outs.append(list(csv.DictReader(open(path))))
    for r7, rbig in zip(*outs):
        for k in ("U", "drift_U", "noise_U", "gamma_kf"):
            assert float(r7[k]) == pytest.approx(float(rbig[k]), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("case, message", [
    ("nan", "must be finite"),
    ("mixed", "dimension 12"),
    ("few", "needs more responses than the embedding dimension"),
    ("missing", "no such file"),
])
def test_score_errors_exit_2_and_write_nothing(npys, capsys, case, message):
    second = npys / "bad.npy"
    if case == "nan":
        x = np.load(npys / "g1.npy")
        x[3, 2] = np.nan
        np.save(second, x)
    elif case == "mixed":
        np.save(second, np.ones((600, 12), dtype=np.float32))
    elif case == "few":
        np.save(second, np.random.default_rng(1).standard_normal((10, 16)))
    csv_path = npys / "out.csv"
    code, out, err = run(["score", str(npys / "g0.npy"), str(second), "--m", "100", "--csv", str(csv_path),
                          "--plot", str(npys / "p.png"), "--quiet"], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert not csv_path.exists() and not (npys / "p.png").exists()


def test_empty_text_inputs_are_refused(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    code, _, err = run(["embed", str(tmp_path / "empty.txt"), "-o", str(tmp_path / "e.npy"), "--quiet"], capsys)
    assert code == 2 and "no responses found" in err
    (tmp_path / "holes.txt").write_text("first\n\nthird\n")
    code, _, err = run(["embed", str(tmp_path / "holes.txt"), "-o", str(tmp_path / "e.npy"), "--quiet"], capsys)
    assert code == 2 and "line 2: empty response" in err
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"txt": "no field"}\n')
    code, _, err = run(["embed", str(tmp_path / "bad.jsonl"), "-o", str(tmp_path / "e.npy"), "--quiet"], capsys)
    assert code == 2 and "line 2: no string field 'text'" in err
    assert not (tmp_path / "e.npy").exists()


@pytest.mark.slow
def test_embed_is_resumable_and_score_reads_text_folders(tmp_path, capsys):
    for g in (0, 1):
        folder = tmp_path / f"g{g}"
        folder.mkdir()
        texts = (random_texts(450, seed=g) if g == 0
                 else [" ".join([t.split()[0]] * 3) + " index page" for t in random_texts(450, 5)])
        (folder / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts[:200]))
        (folder / "b.txt").write_text("\n".join(texts[200:]) + "\n")
    out = tmp_path / "g0.npy"
    parts = tmp_path / "g0.npy.parts"
    parts.mkdir()
    np.save(parts / "chunk_000000.npy", np.full((200, 384), 7.0, dtype=np.float32))  # a chunk finished earlier
    assert run(["embed", str(tmp_path / "g0"), "-o", str(out), "--chunk-size", "200", "--quiet"], capsys)[0] == 0
    emb = np.load(out)
    assert emb.shape == (450, 384) and np.all(emb[:200] == 7.0) and not np.all(emb[200:] == 7.0)
    assert not parts.exists()
    code, stdout, err = run(["score", str(tmp_path / "g0"), str(tmp_path / "g1"), "--m", "400", "--n-draws", "10",
                             "--csv", str(tmp_path / "s.csv"), "--quiet"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert float(rows[1]["distinct_2"]) < float(rows[0]["distinct_2"])
    assert float(rows[1]["drift_U"]) < 0


@pytest.mark.slow
def test_callback_logs_sigma_metrics_inside_a_trainer(tmp_path):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from sigma_lib.apps.callback import SigmaProbe, add_sigma_callback
    from sigma_lib.corpus.prompts import load_prompt_bank
    from sigma_lib.recursion.base_model import project_tokenizer

    tok = project_tokenizer()
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=32, n_positions=128, vocab_size=len(tok)))
    prompts = [p["text"] for p in load_prompt_bank()][:130]
    probe = SigmaProbe(prompts, tok, responses_per_prompt=3, max_new_tokens=4, m=385, n_draws=5, warn_at=0.0)
    ids = tok(["the index is a separate structure that the database keeps"] * 8)["input_ids"]
    data = [{"input_ids": torch.tensor(x), "labels": torch.tensor(x)} for x in ids]
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, learning_rate=1e-2,
                             report_to=[], use_cpu=True, save_strategy="no", logging_strategy="no")
    trainer = Trainer(model=model, args=args, train_dataset=data)
    add_sigma_callback(trainer, probe, every_n_steps=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.train()
    logged = [e for e in trainer.state.log_history if "sigma/drift_U" in e]
    assert [e["step"] for e in logged] == [0, 1, 2]
    assert logged[0]["sigma/drift_U"] == 0.0 and logged[2]["sigma/drift_U"] != 0.0
    assert all(np.isfinite(e["sigma/U"]) for e in logged)
    with pytest.raises(ValueError, match="empty"):
        SigmaProbe([], tok)


def _train_data(tok, n=8):
    import torch

    ids = tok(["the index is a separate structure that the database keeps"] * n)["input_ids"]
    return [{"input_ids": torch.tensor(x), "labels": torch.tensor(x)} for x in ids]


def _event_scalars(folder, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = sorted(folder.rglob("events.out.tfevents.*"))
    assert files, f"no TensorBoard event file under {folder}"
    acc = EventAccumulator(str(files[0].parent))
    acc.Reload()
    return {e.step: e.value for e in acc.Scalars(tag)}


def test_trainer_callback_reaches_tensorboard_at_the_global_step(tmp_path):
    from sigma_fakes import probe, tiny_lm
    from transformers import Trainer, TrainingArguments

    from sigma_lib.apps.callback import add_sigma_callback

    model, tok = tiny_lm()
    pr = probe(tok)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=4, learning_rate=5e-2,
                             report_to="tensorboard", use_cpu=True, save_strategy="no", logging_steps=1,
                             disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=_train_data(tok))
    add_sigma_callback(trainer, pr, every_n_steps=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.train()
    drift = _event_scalars(tmp_path, "train/sigma/drift_U")
    assert sorted(drift) == [0, 2, 4]
    records = {int(r.checkpoint): r for r in pr.monitor.records}
    for step, value in drift.items():
        assert value == pytest.approx(records[step].drift_U, rel=1e-6, abs=1e-6)  # TensorBoard stores float32
    assert drift[0] == 0.0 and drift[4] != 0.0
    assert sorted(_event_scalars(tmp_path, "train/sigma/noise_U")) == [0, 2, 4]
    logged = [e for e in trainer.state.log_history if "sigma/drift_U" in e]
    assert [e["step"] for e in logged] == [0, 2, 4]


def test_unbound_trainer_callback_still_fills_log_history_and_says_so(tmp_path):
    from sigma_fakes import probe, tiny_lm
    from transformers import Trainer, TrainingArguments

    from sigma_lib.apps.callback import make_sigma_callback

    model, tok = tiny_lm()
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, report_to=[],
                             use_cpu=True, save_strategy="no", logging_strategy="no", disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=_train_data(tok),
                      callbacks=[make_sigma_callback(probe(tok), every_n_steps=1)])
    with pytest.warns(UserWarning, match="not bound to its Trainer"):
        trainer.train()
    assert [e["step"] for e in trainer.state.log_history if "sigma/drift_U" in e] == [0, 1, 2]
