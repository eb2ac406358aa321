"""What a finished lesson's kernel keeps: the course's training loop matches torch.optim but loads less; after each
cell old reference cycles are collected and freed memory goes back to the OS."""

import subprocess
import sys

import pytest
import torch

from simplex_edu.training import AdamW


def _train(make_optimizer, set_lr, weight_decay: float) -> list[torch.Tensor]:
    """300 steps on an MLP and a GRU with a learning-rate drop; the final parameters."""
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    gru = torch.nn.GRU(2, 8, batch_first=True)
    params = [*mlp.parameters(), *gru.parameters()]
    optimizer = make_optimizer(params, weight_decay)
    generator = torch.Generator().manual_seed(1)
    for step in range(300):
        if step == 200:
            set_lr(optimizer, 3e-4)
        loss = (mlp(torch.randn(64, 3, generator=generator)).pow(2).mean()
                + gru(torch.randn(16, 5, 2, generator=generator))[0].pow(2).mean())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [p.detach().clone() for p in params]


def _set_torch_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adamw_gives_torchs_results_bit_for_bit(weight_decay):
    ours = _train(lambda p, wd: AdamW(p, lr=3e-3, weight_decay=wd), lambda o, lr: setattr(o, "lr", lr), weight_decay)
    theirs = _train(lambda p, wd: torch.optim.AdamW(p, lr=3e-3, weight_decay=wd), _set_torch_lr, weight_decay)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))


def test_training_does_not_load_torch_compile():
    """torch.optim's first use imports torch._dynamo (~70 MB per kernel); the course's training must not."""
    code = ("import sys, torch\nfrom simplex_edu.training import TrainConfig, train\n"
            "model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))\n"
            "batch = lambda n, g: (torch.randn(n, 2, generator=g), torch.randn(n, 1, generator=g))\n"
            "loss = lambda m, x, y: (m(x) - y).pow(2).mean()\n"
            "history = train(model, batch, loss, TrainConfig(steps=20, progress=False))\n"
            "print(history.losses[-1] < history.losses[0], 'torch._dynamo' in sys.modules)")
    assert subprocess.check_output([sys.executable, "-c", code], text=True).split() == ["True", "False"]


FRAGMENTING_CELL = """
import psutil
blocks = [bytearray(4000) for _ in range(50000)]  # 200 MB in 4 KB blocks from malloc's heap
kept = blocks[::10]  # every tenth stays alive, so the freed ones are holes malloc cannot trim by itself
del blocks
"""


def _growth_after_cells(import_course: bool, *cells: str) -> float:
    """MB a fresh IPython shell holds after ``cells`` (with or without the course), beyond what it held before."""
    code = ("import psutil\nfrom IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance()\n"
            + ("import simplex_edu\n" if import_course else "")
            + "before = psutil.Process().memory_info().rss\n"
            + "".join(f"shell.run_cell({cell!r})\n" for cell in cells)
            + "print((psutil.Process().memory_info().rss - before) / 2**20)")
    return float(subprocess.check_output([sys.executable, "-c", code], text=True).split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim: Linux only")
def test_freed_memory_goes_back_to_the_os_after_each_cell():
    without, with_course = _growth_after_cells(False, FRAGMENTING_CELL), _growth_after_cells(True, FRAGMENTING_CELL)
    assert without > 150, f"the control kept only {without:.0f} MB: the cell does not fragment the heap"
    assert with_course < 60, f"after the cell the kernel still holds {with_course:.0f} MB of the 20 MB kept"


# A closed figure, in small: a reference cycle holding a big buffer, kept over a cell (so it is old) and then dropped.
# Only Python's full collection reaches old objects, and it runs rarely once a kernel holds torch's many objects.
OLD_CYCLE_CELL = ("import gc\nfigure = {'pixels': bytearray(b'x') * (100 * 2**20)}\nfigure['self'] = figure\n"
                  "gc.collect()  # the cycle survives a collection: now in the oldest generation, like a shown figure")
DROP_CELL = "del figure"
IMPORT_CELL = "import numpy  # a cell that loads a library: the collector freezes what survives"
LATER_IMPORT_CELL = "import simplex_edu.memory as m; m.FREEZE_AFTER_MODULES = 1; import xml.dom.minidom"


def test_old_reference_cycles_are_collected_after_each_cell():
    without = _growth_after_cells(False, OLD_CYCLE_CELL, DROP_CELL)
    with_course = _growth_after_cells(True, OLD_CYCLE_CELL, DROP_CELL)
    assert without > 90, f"the control kept only {without:.0f} MB: the dropped cycle was collected anyway"
    assert with_course < 20, f"after the cell the kernel still holds {with_course:.0f} MB of a dropped 100 MB cycle"


def test_cycles_frozen_by_an_import_are_collected_at_the_next_import():
    """A cycle alive when a cell loads a library is frozen with it: kept while frozen, collected at the next load."""
    frozen = _growth_after_cells(True, OLD_CYCLE_CELL, IMPORT_CELL, DROP_CELL)
    thawed = _growth_after_cells(True, OLD_CYCLE_CELL, IMPORT_CELL, DROP_CELL, LATER_IMPORT_CELL)
    assert frozen > 90, f"the cycle was not frozen by the import ({frozen:.0f} MB kept): this test tests nothing"
    assert thawed < 20, f"a cycle dropped after a freeze still holds {thawed:.0f} MB after the next library load"


def test_collections_after_a_cell_skip_the_imported_modules():
    """After a cell that imported numpy, its objects are frozen: later collections walk only what cells make."""
    code = ("import gc\nfrom IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance()\nimport simplex_edu\n"
            "shell.run_cell('import numpy')\nshell.run_cell('x = [[i] for i in range(1000)]')\n"
            "print(gc.get_freeze_count(), len(gc.get_objects()))")
    frozen, walked = map(int, subprocess.check_output([sys.executable, "-c", code], text=True).split())
    assert frozen > 20000 and walked < frozen / 4, f"{frozen} objects frozen, {walked} still walked"
