"""Batched and sequential image evaluation agree; the chooser follows the device rule."""

import numpy as np
import pytest
from ase.build import bulk

from contactflow.engines import get_calculator
from contactflow.engines.batch import BatchChooser, ImageEvaluator, get_evaluator
from contactflow.errors import ContactflowError


def li_in_si_images(n: int = 3):
    si = bulk("Si", "diamond", a=5.431, cubic=True)
    out = []
    for t in np.linspace(0.0, 1.0, n):
        a = si.copy()
        a.append("Li")
        a.positions[-1] = (np.array([0.5, 0.5, 0.5]) + t * np.array([0.25, 0.25, 0.25])) * 5.431
        out.append(a)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["chgnet", "chgnet+d3"])
def test_batched_equals_sequential_and_the_ase_calculator(spec):
    imgs = li_in_si_images()
    ev = get_evaluator(spec, "cpu")
    assert ev.supports_batch
    seq, bat = ev.evaluate(imgs), ev.evaluate(imgs, batched=True)
    ref = ImageEvaluator(get_calculator(spec, "cpu")).evaluate(imgs)
    for s, b, r in zip(seq, bat, ref):
        assert b.energy_eV == pytest.approx(s.energy_eV, abs=1e-4)
        assert np.abs(b.forces - s.forces).max() < 1e-4
        assert s.energy_eV == pytest.approx(r.energy_eV, abs=1e-4)
        assert np.abs(s.forces - r.forces).max() < 1e-4
    # the symmetric images (Td at both ends) have equal energies
    assert seq[0].energy_eV == pytest.approx(seq[-1].energy_eV, abs=1e-3)


@pytest.mark.slow
def test_chooser_rules():
    imgs = li_in_si_images()
    ev = get_evaluator("chgnet", "cpu")
    auto_cpu = BatchChooser("auto", "cpu")
    auto_cpu.evaluate(ev, imgs[:1])  # one structure: nothing to learn about batching
    auto_cpu.evaluate(ev, imgs)  # the warm-up call (first-call allocations would bias the timing)
    assert auto_cpu.decided is None and not auto_cpu.timings_s
    auto_cpu.evaluate(ev, imgs)
    auto_cpu.evaluate(ev, imgs)
    # CPU: both paths timed on the real work, the faster kept (the size decides which one it is)
    assert set(auto_cpu.timings_s) == {"sequential", "batched"}
    assert auto_cpu.decided == min(auto_cpu.timings_s, key=auto_cpu.timings_s.get)
    big = BatchChooser("auto", "cpu")  # 65-atom cells: the batch measured slower on a CPU every time
    big.evaluate(ev, [a * (2, 2, 2) for a in imgs[:2]])
    assert big.decided == "sequential" and not big.timings_s
    auto_gpu = BatchChooser("auto", "cuda")
    assert auto_gpu.decided is None
    assert BatchChooser("sequential", "cuda").decided == "sequential"
    m = BatchChooser("measure", "cpu")
    first = m.evaluate(ev, imgs)
    assert m.decided is None and set(m.timings_s) == {"sequential"}
    second = m.evaluate(ev, imgs)
    assert first[1].energy_eV == pytest.approx(second[1].energy_eV, abs=1e-4)
    assert m.decided == min(m.timings_s, key=m.timings_s.get)  # the measured faster path is kept
    seq_only = ImageEvaluator(get_calculator("chgnet", "cpu"))
    c2 = BatchChooser("measure", "cpu")
    c2.evaluate(seq_only, imgs)
    assert c2.decided == "sequential"
    with pytest.raises(ContactflowError, match="batch mode"):
        BatchChooser("fast")
