"""Reconstruction grids: found in TensorBoard image summaries (torch's SummaryWriter) and in RadioDiff-named PNG
files, indexed without reading their bytes, and the right three chosen around disc_start."""

from __future__ import annotations

import io

import numpy as np
import pytest

from vae_report.images import choose_images, find_images

torch = pytest.importorskip("torch")
from torch.utils.tensorboard import SummaryWriter  # noqa: E402


def _grid(shade: int) -> np.ndarray:
    image = np.zeros((3, 8, 16), dtype=np.uint8)
    image[:, :, :8] = shade
    return image


def test_tensorboard_image_summaries_are_indexed_and_chosen_around_disc_start(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    for step in range(0, 601, 10):
        writer.add_scalar("train/rec_loss", 1.0 / (step + 1), step)
        if step % 100 == 0:
            writer.add_image("train/reconstructions", _grid(step // 100 * 40), step)
    writer.close()
    refs = find_images(tmp_path)
    assert sorted(r.step for r in refs) == [0, 100, 200, 300, 400, 500, 600]
    assert {r.group for r in refs} == {"train/reconstructions"}
    shown = choose_images(refs, disc_start=301)
    assert [s.ref.step for s in shown] == [300, 400, 600]
    assert "last before the discriminator started" in shown[0].caption and "step 300" in shown[0].caption
    from PIL import Image

    picture = Image.open(io.BytesIO(shown[1].data))
    assert picture.size == (16, 8)
    assert np.asarray(picture)[0, 0, 0] == 4 * 40  # the step-400 grid, read back from its own record


def test_radiodiff_sample_files_take_their_step_from_the_milestone(tmp_path):
    from PIL import Image

    for milestone in (1, 2, 3, 4):
        Image.fromarray(_grid(milestone * 50).transpose(1, 2, 0)).save(tmp_path / f"sample-{milestone}.png")
    refs = find_images(tmp_path, checkpoint_every=5000)
    assert sorted(r.step for r in refs) == [5000, 10000, 15000, 20000]
    shown = choose_images(refs, disc_start=10001)
    assert [s.ref.step for s in shown] == [10000, 15000, 20000]
    assert all(s.mime == "image/png" for s in shown)
    # without the sampling interval the milestone number is what the caption can say
    shown = choose_images(find_images(tmp_path), disc_start=10001)
    assert [s.ref.order for s in shown] == [4] and "milestone 4" in shown[0].caption


def test_a_run_without_images_gives_none(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    writer.add_scalar("train/rec_loss", 0.5, 0)
    writer.close()
    assert find_images(tmp_path) == [] and choose_images([], 100) == []


def test_an_image_saved_after_the_last_logged_scalar_says_so(tmp_path):
    """The bundled trainer saves its last grid at the end (step 600) after its last scalar log (590): "latest"
    beside "the last logged step is 590" would contradict it, so the caption says where the image stands."""
    from vae_report import analyze_run
    from vae_report.images import reconstructions

    writer = SummaryWriter(str(tmp_path))
    for step in range(0, 600, 10):
        writer.add_scalar("train/rec_loss", 1.0 / (step + 1), step)
        if step % 200 == 0:
            writer.add_image("train/reconstructions", _grid(step // 200 * 40), step)
    writer.add_image("train/reconstructions", _grid(200), 600)
    writer.close()
    a = analyze_run(tmp_path)
    assert a.step == 590
    (latest,) = [s for s in reconstructions(a) if s.ref.step == 600]
    assert "step 600: latest, saved after the last logged scalar step (590)" in latest.caption
    early = choose_images(find_images(tmp_path), disc_start=None, last_step=600)
    assert early[-1].caption.startswith("train/reconstructions at step 600: latest (")
