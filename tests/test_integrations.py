"""Where users look: Lightning's loggers, TensorBoard for generation-indexed runs."""
import csv
import warnings

import pytest


def _lightning_module(model, lr=5e-2):
    import pytorch_lightning as pl
    import torch

    class LM(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = model

        def training_step(self, batch, batch_idx):
            loss = self.model(input_ids=batch, labels=batch).loss
            self.log("loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=lr)

    return LM()


@pytest.mark.parametrize("log_every_n_steps", [1, 3])
def test_lightning_callback_logs_through_log_dict_at_the_global_step(tmp_path, log_every_n_steps):
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.loggers import CSVLogger
    from sigma_fakes import probe, tiny_lm

    from sigma_lib.apps.lightning import SigmaLightningCallback

    model, tok = tiny_lm()
    pr = probe(tok)
    ids = torch.tensor(tok(["the index is a separate structure that the database keeps"] * 12)["input_ids"])
    loader = torch.utils.data.DataLoader(ids, batch_size=2)
    trainer = pl.Trainer(max_steps=5, accelerator="cpu", devices=1, logger=CSVLogger(tmp_path, name="run"),
                         log_every_n_steps=log_every_n_steps, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[SigmaLightningCallback(pr, every_n_steps=2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(_lightning_module(model), loader)
    rows = list(csv.DictReader(open(next(tmp_path.rglob("metrics.csv")))))
    logged = [(int(r["step"]), float(r["sigma/drift_U"])) for r in rows if r.get("sigma/drift_U")]
    assert [s for s, _ in logged] == [0, 2, 4]
    records = {int(r.checkpoint): r for r in pr.monitor.records}
    assert sorted(records) == [0, 2, 4]
    for step, value in logged:
        assert value == pytest.approx(records[step].drift_U, rel=1e-6, abs=1e-6)  # logged as float32
    assert logged[0][1] == 0.0 and logged[2][1] != 0.0


def test_generation_tracker_writes_tensorboard_only_when_asked(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from sigma_lib.recursion.trackers import GenerationTracker, log_generation_metrics

    rows = [{"generation": g, "setting": "S1", "sigma/U": -40.0 - g, "nll": 3.0 + 0.1 * g} for g in range(3)]
    assert log_generation_metrics(rows, log_dir=tmp_path / "none") == 0  # the default sends nothing
    assert not (tmp_path / "none").exists()
    assert log_generation_metrics(rows, "tensorboard", tmp_path / "tb") == 3
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert {e.step: e.value for e in acc.Scalars("sigma/U")} == {0: -40.0, 1: -41.0, 2: -42.0}
    assert "setting" not in acc.Tags()["scalars"]
    with pytest.raises(ValueError, match="not supported"):
        GenerationTracker("wandb")
    with pytest.raises(ValueError, match="log_dir"):
        GenerationTracker("tensorboard")
