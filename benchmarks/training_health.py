"""Overhead of `recipe.overfit.TrainingHealth`: training-step time with vs without the callback, in one run.

Both paths are timed in the same run by default: the plain one (`TrainingHealth(fast=False)`, PyTorch's operations) and
the fast one (`TrainingHealth(fast=True)`, `recipe.fast_health.FastHealth`: fused Triton kernels and CUDA graphs).

Two cases: the digits MLP (`recipe.core.digits_learner`, the CPU case) and a ResNet-18-sized model
(torchvision's `resnet18(weights=None)`, or a built-in copy of it when torchvision is missing) on synthetic
3x64x64 images held on the device, so that the timing is the training step and not data loading.
Each repeat times an epoch without the callback and one with each implementation asked for, in an order that rotates
from repeat to repeat; the figure is the median over repeats of the per-repeat ratio to the epoch without. `--skip N` times each epoch from its N-th batch (the steady state: the callback captures its CUDA graphs in a fit's first
steps, and every timed epoch here is a fit of its own). `--sync-check` also runs one epoch with the callback's methods under
`torch.cuda.set_sync_debug_mode('error')` (CUDA) or under `count_host_syncs` (CPU) and reports any host sync.

    python benchmarks/training_health.py --device cpu --case mlp            # here
    python benchmarks/training_health.py --case resnet18 --sync-check       # on a GPU, 3x64x64 fp32
    python benchmarks/training_health.py --case resnet18 --size 224 --fp16 --skip 5  # on a GPU, ImageNet-sized, mixed precision
    python benchmarks/training_health.py --case resnet18 --size 224 --blocks 20 --batches 20 --cycles 25 --repeats 4 --sync-check  # fp32, per step
`--cpu-time` also reports the host time the callback's own methods take per recorded step (no sync inside: this is
the time the CPU spends queueing the callback's work, which is what a launch-bound step pays); `--host-profile` adds a
cProfile of the callback's own methods and hooks over one epoch, by own time per recorded step. `--impls plain,fast` picks the
paths to time; `--unfused` and `--eager` also time the fast path without its Triton kernels (`FastHealth(fused=False)`)
or without CUDA graphs (`graphs=False`), and `--impl FILE` another implementation of the callback (a module file defining
`TrainingHealth`). `--exposure US` times a stand-in that only
spends US microseconds of host time per step, in `after_loss` and then in `before_step`: it shows where in the step the
host's time is added to the step's time (in mixed precision, fastai synchronises in `before_step`).
`--fastai-types` yields the batches as fastai's `TensorImage`/`TensorCategory`, as its own loaders do.
Writes `$OUT/training_health.json` when the environment variable OUT is set.
"""
import argparse, json, math, os, statistics, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
from torch import nn
from fastai.learner import Learner
from fastai.data.core import DataLoaders
from fastai.callback.core import Callback
from fastai.losses import CrossEntropyLossFlat
from fastai.optimizer import Adam, SGD
from functools import partial
from recipe.overfit import TrainingHealth, count_host_syncs, _count_inside
from recipe.fast_health import FastHealth

IMPLS = dict(plain=partial(TrainingHealth, fast=False), fast=partial(TrainingHealth, fast=True))

def _sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

class DeviceLoader:
    "Batches sliced from tensors already on the device: no data loading in the timing"
    def __init__(self, x, y, bs, device, types=False, cycles=1): self.x,self.y,self.bs,self.device,self.types,self.cycles = x,y,bs,device,types,cycles
    def __len__(self): return math.ceil(len(self.x) / self.bs) * self.cycles
    def __iter__(self):
        from fastai.torch_core import TensorImage, TensorCategory
        for i in list(range(0, len(self.x), self.bs)) * self.cycles:  # `cycles` passes over the same batches: long epochs, little memory
            x, y = self.x[i:i+self.bs], self.y[i:i+self.bs]
            yield (TensorImage(x), TensorCategory(y)) if self.types else (x, y)  # fastai's own loaders yield these types
    def to(self, device): return self

def resnet18(num_classes=10):
    try:
        from torchvision.models import resnet18 as rn
        return rn(weights=None, num_classes=num_classes)
    except ImportError: return _ResNet18(num_classes)

class _Block(nn.Module):
    "torchvision's BasicBlock, for machines without torchvision"
    def __init__(self, ni, nf, stride):
        super().__init__()
        self.conv1,self.bn1 = nn.Conv2d(ni, nf, 3, stride, 1, bias=False),nn.BatchNorm2d(nf)
        self.conv2,self.bn2 = nn.Conv2d(nf, nf, 3, 1, 1, bias=False),nn.BatchNorm2d(nf)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(ni, nf, 1, stride, bias=False), nn.BatchNorm2d(nf))
                           if stride != 1 or ni != nf else nn.Identity())
    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.downsample(x))

class _ResNet18(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        chans = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        self.layers = nn.Sequential(*[nn.Sequential(_Block(i, o, s), _Block(o, o, 1)) for i, o, s in chans])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes))
    def forward(self, x): return self.head(self.layers(self.stem(x)))

def mlp_learner(device):
    from recipe.core import digits_dls, digits_learner
    return digits_learner(digits_dls(bs=64, device=device), lr=1e-3)

def resnet_learner(device, bs=256, n_batches=40, size=64, fp16=False, types=False, cycles=1):
    g = torch.Generator(device).manual_seed(0)  # made on the device: a large set in seconds
    x = torch.randn(bs * n_batches, 3, size, size, generator=g, device=device)
    y = torch.randint(0, 10, (bs * n_batches,), generator=g, device=device)
    dls = DataLoaders(DeviceLoader(x, y, bs, device, types, cycles), DeviceLoader(x[:bs], y[:bs], bs, device, types))
    model = resnet18().to(device).to(memory_format=torch.channels_last) if device.type == 'cuda' else resnet18().to(device)
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), opt_func=partial_sgd(), lr=1e-2)
    return learn.to_fp16() if fp16 else learn

def partial_sgd():
    from functools import partial
    return partial(SGD, mom=0.9)

class _Start(Callback):
    "Start the clock when training starts, or at the `skip`-th batch (steady state: the graphs are captured in the first steps)"
    order = -1000
    def __init__(self, times, skip=0): self.times,self.skip = times,skip
    def before_train(self):
        if self.skip == 0: _sync(self.dev); self.t0 = time.perf_counter()
    def before_batch(self):
        if self.skip and self.training and self.iter == self.skip: _sync(self.dev); self.t0 = time.perf_counter()
class _Stop(Callback):
    order = 1000
    def __init__(self, start): self.start = start
    def after_train(self): _sync(self.start.dev); self.start.times.append(time.perf_counter() - self.start.t0)

class Busy(Callback):
    "Host time alone, no GPU work: spin `us` microseconds in one event of each training step. Is host time spent there added to the step?"
    order = TrainingHealth.order
    def __init__(self, event, us, every=1):
        self.us = us
        setattr(self, event, self._spin)
    def _spin(self):
        if not self.training: return
        t = time.perf_counter() + self.us * 1e-6
        while time.perf_counter() < t: pass

SKIP = 0  # batches left out at the start of each timed epoch (`--skip`)

def epoch_time(learn, device, cbs=()):
    "Seconds of one training epoch (the validation pass excluded, and the first `SKIP` batches), synchronised at both ends"
    times = []
    start = _Start(times, SKIP); start.dev = device
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=[start, _Stop(start), *cbs])
    return times[0]

_METHODS = ('before_batch', 'after_loss', 'after_backward', 'before_step', 'after_step', 'after_batch', '_act_hook')

def _timed(th, acc):
    "Wrap the callback's batch-loop methods and hooks to add their host time to `acc[method]` (no sync: queueing time only)"
    for e in _METHODS:
        if not hasattr(type(th), e): continue  # (an implementation without this method)
        f = getattr(th, e)
        def w(*a, _f=f, _e=e, **k):
            t0 = time.perf_counter()
            try: return _f(*a, **k)
            finally: acc[_e] = acc.get(_e, 0.) + time.perf_counter() - t0
        setattr(th, e, w)
    return th

def cpu_time(learn, device, every, cls=None):
    "Host milliseconds per recorded step spent inside the callback's methods (total, and by method), median over 3 epochs"
    cls = cls or TrainingHealth
    res = []
    for _ in range(3):
        acc = {}; th = _timed(cls(every=every), acc)
        epoch_time(learn, device, (th,))
        res.append({k: v * 1e3 / max(1, len(th.step)) for k, v in acc.items()})
    by = {k: statistics.median(r.get(k, 0.) for r in res) for k in _METHODS}
    return statistics.median(sum(r.values()) for r in res), by

def measure(learn, device, every, repeats, impls):
    "Epoch time without a callback and with each of `impls` ((name, class) pairs), all in each repeat, in an order that rotates"
    for cbs in [()] + [(cls(every=every),) for _, cls in impls]: epoch_time(learn, device, cbs)  # warm-up: allocator, cuDNN autotune
    confs = [None] + list(range(len(impls)))
    times, last = {c: [] for c in confs}, {}
    for r in range(repeats):
        for c in confs[r % len(confs):] + confs[:r % len(confs)]:
            if c is not None: last[c] = impls[c][1](every=every)
            times[c].append(epoch_time(learn, device, (last[c],) if c is not None else ()))
    base, res = times[None], []
    for c, (name, _) in enumerate(impls):
        ratios = [h / b for h, b in zip(times[c], base)]
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
        res.append(dict(impl=name, every=every, repeats=repeats, steps=len(learn.dls.train), base_s=statistics.median(base),
                        health_s=statistics.median(times[c]), ratio=statistics.median(ratios), ratio_q1=q[0], ratio_q3=q[-1], ratios=ratios,
                        graph_replays=dict(getattr(last[c], 'graph_replays', {})), graph_error=getattr(last[c], 'graph_error', None),
                        fused_steps=dict(getattr(last[c], 'fused_steps', {})), fused_error=getattr(last[c], 'fused_error', None)))
    return res

_LOOP = ('before_batch', 'after_pred', 'after_loss', 'before_backward', 'after_backward', 'before_step', 'after_step', 'after_cancel_batch', 'after_batch')

class Gate(Callback):
    "Pass the batch-loop events to `cb` only in every other block of `block` training steps: in the others it does nothing"
    def __init__(self, cb, block, phase=0): self.cb,self.block,self.phase,self.order,self.run_valid = cb,block,phase,cb.order,False
    def on(self, i): return (i // self.block + self.phase) % 2 == 1
    def __call__(self, event_name):
        if event_name == 'before_fit': self.cb.learn = self.learn
        # (its events also run in the first step after each block: work it leaves to the next step, such as an update norm, is done)
        if event_name in _LOOP and not (self.on(self.learn.iter) or self.on(self.learn.iter - 1)): return
        self.cb(event_name)

class StepTimes(Callback):
    "A CUDA event at the start of each training step (no sync): the GPU's time per step, read when the fit ends (on a CPU, the clock)"
    order = -1000
    def __init__(self, device): self.cuda = device.type == 'cuda'
    def _mark(self):
        if not self.cuda: return time.perf_counter() * 1e3
        e = torch.cuda.Event(enable_timing=True); e.record(); return e
    def before_train(self): self.ev = []
    def before_batch(self):
        if self.training: self.ev.append(self._mark())
    def after_train(self):
        self.ev.append(self._mark())
        if self.cuda: self.ev[-1].synchronize()
        self.ms = [a.elapsed_time(b) if self.cuda else b - a for a, b in zip(self.ev, self.ev[1:])]

def blocked(learn, device, cls, every, block, fits, skip=2):
    """Per-step GPU time with the callback on and off in alternate blocks of `block` steps of one long fit, `fits` fits
    (the phase alternating). Slow drifts of the machine (clocks, other jobs) cancel out between neighbouring blocks. The
    first `skip` steps of each block are left out (the switch). Figure: the median over on-blocks of the block's median step
    over the mean of its two neighbours' medians; also the mean step on over the mean step off."""
    pairs, on_ms, off_ms, last, fit_ratios, per_fit = [], [], [], None, [], []
    for f in range(fits):
        t, last = StepTimes(device), cls(every=every)
        g = Gate(last, block, f % 2)
        with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=[t, g])
        n = len(t.ms) // block
        meds = [statistics.median(t.ms[k * block + skip:(k + 1) * block]) for k in range(n)]
        fon, foff = [], []
        for k in range(n):
            seg = t.ms[k * block + skip:(k + 1) * block]
            (fon if g.on(k * block) else foff).extend(seg if k else [])  # the first block: allocator and graphs warming up
            if g.on(k * block) and 1 <= k < n - 1: pairs.append(meds[k] / ((meds[k - 1] + meds[k + 1]) / 2))
        on_ms += fon; off_ms += foff
        fit_ratios.append(statistics.median(fon) / statistics.median(foff))
        per_fit.append(dict(phase=f % 2, ms=[round(x, 4) for x in t.ms]))
    q = statistics.quantiles(pairs, n=4)
    return dict(mode='blocks', block=block, fits=fits, steps=len(t.ms), ratio=statistics.median(pairs), ratio_q1=q[0], ratio_q3=q[-1],
                pairs=len(pairs), ratio_means=statistics.mean(on_ms) / statistics.mean(off_ms), step_ms_off=statistics.median(off_ms),
                step_ms_on=statistics.median(on_ms), ratio_medians=statistics.median(on_ms) / statistics.median(off_ms),
                fit_ratios=fit_ratios, ratios=pairs, per_fit=per_fit, graph_replays=dict(getattr(last, 'graph_replays', {})),
                fused_steps=dict(getattr(last, 'fused_steps', {})))

def sync_check(learn, device, cls=TrainingHealth):
    "Host syncs made by the callback's own batch-loop methods during one epoch"
    th = cls()
    if device.type == 'cuda':
        events = _LOOP + ('_act_hook',)
        def _wrap(f):
            def _inner(*a, **k):
                torch.cuda.set_sync_debug_mode('error')
                try: return f(*a, **k)
                finally: torch.cuda.set_sync_debug_mode('default')
            return _inner
        for e in events:
            if hasattr(th, e): setattr(th, e, _wrap(getattr(th, e)))
        try:
            with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=th)
            return dict(method='torch.cuda.set_sync_debug_mode', syncs=0)
        except RuntimeError as e: return dict(method='torch.cuda.set_sync_debug_mode', syncs=1, error=str(e).splitlines()[0])
    with count_host_syncs() as c:
        c.active = False
        with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=_count_inside(th, c))
    return dict(method='count_host_syncs', syncs=c.total, counts=dict(c.counts))

def host_profile(learn, device, every=1, top=30, cls=TrainingHealth):
    "cProfile of the callback's batch-loop methods and hooks during one epoch: where their host time goes, by own time"
    import cProfile, pstats
    epoch_time(learn, device, (cls(every=every),))  # warm-up: the graphs are captured in the first steps
    th, pr = cls(every=every), cProfile.Profile()
    for e in _METHODS:  # profile inside the callback's methods only, not fastai's loop or the model
        if not hasattr(type(th), e): continue
        def w(*a, _f=getattr(th, e), **k):
            pr.enable()
            try: return _f(*a, **k)
            finally: pr.disable()
        setattr(th, e, w)
    epoch_time(learn, device, (th,))
    n = max(1, len(th.step))
    rows = [(f"{Path(fn).name}:{ln}({name})", nc, tt * 1e6 / n, ct * 1e6 / n) for (fn, ln, name), (cc, nc, tt, ct, callers) in pstats.Stats(pr).stats.items()]
    rows.sort(key=lambda r: -r[2])
    print(f"host profile of the callback, one epoch, {n} recorded steps, per recorded step: own us, cumulative us, calls (cProfile adds its own overhead)")
    for name, nc, us, cum in rows[:top]: print(f"  {us:8.1f} {cum:8.1f} {nc:6d}  {name}")
    return [dict(fn=name, calls=nc, own_us_per_step=us, cum_us_per_step=cum) for name, nc, us, cum in rows[:top]]

def _diffs(g, e):
    import numpy as np
    diffs = {}
    for k in ('loss', 'grad', 'weight', 'update', 'act_mean', 'act_std', 'dead', 'epoch_dead'):
        a, b = getattr(g, k), getattr(e, k)
        same_nan = bool((np.isnan(a) == np.isnan(b)).all())
        ok = np.isfinite(a) & np.isfinite(b)
        diffs[k] = dict(shape=list(a.shape), same_nan=same_nan, max_rel=float((np.abs(a - b)[ok] / np.maximum(np.abs(b[ok]), 1e-12)).max()) if ok.any() else 0.)
    return diffs

def check_graphs(learn, device, epochs=2):
    "Fit once with the fast path graphed, eager, and with PyTorch's operations instead of the fused kernels, and the plain path, side by side: the records must agree"
    g, e, u, p = FastHealth(graphs=True), FastHealth(graphs=False), FastHealth(fused=False), TrainingHealth(fast=False)
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, cbs=[g, e, u, p])
    return dict(case='check_graphs', steps=len(g.step), graph_steps=g.n_graph_steps, graph_replays=dict(g.graph_replays), graph_error=g.graph_error,
                captures=g._captures, eager_graph_steps=e.n_graph_steps, diffs=_diffs(g, e), diffs_unfused=_diffs(g, u), diffs_plain=_diffs(g, p),
                findings_plain=[(f.name, f.status) for f in p.report()],
                fused_steps=dict(g.fused_steps), fused_steps_eager=dict(e.fused_steps), fused_steps_unfused=dict(u.fused_steps), fused_error=g.fused_error,
                findings=[(f.name, f.status) for f in g.report()], findings_eager=[(f.name, f.status) for f in e.report()],
                findings_unfused=[(f.name, f.status) for f in u.report()])

def _save(rows):
    "Write the rows so far to `$OUT/$NAME` (when OUT is set): a run cut short keeps what it measured"
    if not os.environ.get('OUT'): return
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'
    out = Path(os.environ['OUT']) / os.environ.get('NAME', 'training_health.json')
    out.write_text(json.dumps(dict(device=name, torch=torch.__version__, rows=rows), indent=1))
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--case', default='all', choices=['mlp', 'resnet18', 'all'])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--every', default='1', help='comma-separated, e.g. 1,10')
    p.add_argument('--bs', type=int, default=256, help='ResNet-18 batch size')
    p.add_argument('--size', type=int, default=64, help='ResNet-18 image size (e.g. 32, 64, 224)')
    p.add_argument('--fp16', action='store_true', help="mixed precision (fastai's `to_fp16`)")
    p.add_argument('--cpu-time', action='store_true', help="host ms per recorded step inside the callback's methods")
    p.add_argument('--impls', default='plain,fast', help='the paths of `TrainingHealth` to time: plain (fast=False), fast (fast=True)')
    p.add_argument('--impl', default='', help='a module file with another `TrainingHealth`, timed beside these')
    p.add_argument('--eager', action='store_true', help='also time `FastHealth(graphs=False)` (no CUDA graphs)')
    p.add_argument('--unfused', action='store_true', help="also time `FastHealth(fused=False)` (PyTorch's operations, no Triton kernels)")
    p.add_argument('--exposure', type=int, default=0, help="also time a callback that only spins this many microseconds of host time, once in "
                   "`after_loss` (the GPU is still busy with the forward pass) and once in `before_step` (after mixed precision's per-step sync)")
    p.add_argument('--null', action='store_true', help="also time a callback that does nothing (a control: the figure's noise and bias)")
    p.add_argument('--check-graphs', action='store_true', help='fit with graphs on and off side by side and compare every record')
    p.add_argument('--batches', type=int, default=40, help='ResNet-18 batches per epoch')
    p.add_argument('--cycles', type=int, default=1, help='passes over those batches per epoch (a longer epoch, no more memory)')
    p.add_argument('--blocks', type=int, default=0, help='instead of whole epochs, time each step (CUDA events) in one long fit per repeat, '
                   'the callback on and off in alternate blocks of this many steps')
    p.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: leave as is)')
    p.add_argument('--sync-check', action='store_true')
    p.add_argument('--skip', type=int, default=0, help='time each epoch from its SKIP-th batch: the steady state, after the graphs are captured')
    p.add_argument('--fastai-types', action='store_true', help="batches as fastai's TensorImage/TensorCategory, as its loaders yield them (plain tensors by default)")
    p.add_argument('--host-profile', action='store_true', help="cProfile the callback's methods over one epoch: where their host time goes")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    global SKIP; SKIP = a.skip
    device = torch.device(a.device)
    if device.type == 'cuda': torch.backends.cudnn.benchmark = True
    cases = ['mlp', 'resnet18'] if a.case == 'all' else [a.case]
    impls = [(k, IMPLS[k]) for k in a.impls.split(',') if k]
    if a.impl:
        import importlib.util
        spec = importlib.util.spec_from_file_location('th_impl', a.impl); mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
        impls.append((Path(a.impl).stem, mod.TrainingHealth))
    if a.eager: impls.append(('eager', partial(FastHealth, graphs=False)))
    if a.unfused: impls.append(('unfused', partial(FastHealth, fused=False)))
    if a.null:
        impls.append(('null', partial(Busy, 'after_loss', 0)))
    if a.exposure:
        impls += [(f'busy_{e}_{a.exposure}us', partial(Busy, e, a.exposure)) for e in ('after_loss', 'before_step')]
    rows = []
    for case in cases:
        torch.manual_seed(0)
        learn = mlp_learner(device) if case == 'mlp' else resnet_learner(device, a.bs, a.batches, a.size, a.fp16, a.fastai_types, a.cycles)
        if a.blocks:
            if a.check_graphs and device.type == 'cuda': rows.append(check_graphs(learn, device)); print(json.dumps(rows[-1]), flush=True)
            if a.sync_check:
                for name, cls in impls:
                    if name in IMPLS: rows.append(dict(case='sync_check', impl=name, **sync_check(learn, device, cls))); print(json.dumps(rows[-1]), flush=True)
            for every in [int(e) for e in a.every.split(',')]:
                for name, cls in impls:
                    rows.append(dict(case=case, impl=name, size=a.size if case == 'resnet18' else 8, fp16=a.fp16, device=str(device), every=every,
                                     **blocked(learn, device, cls, every, a.blocks, a.repeats)))
                    print(json.dumps({k: v for k, v in rows[-1].items() if k not in ('per_fit', 'ratios')}), flush=True)
                    _save(rows)
            continue
        if a.check_graphs and device.type == 'cuda': rows.append(check_graphs(learn, device)); print(json.dumps(rows[-1]), flush=True)
        for every in [int(e) for e in a.every.split(',')]:
            for m in measure(learn, device, every, a.repeats, impls):
                r = dict(case=case, size=a.size if case == 'resnet18' else 8, fp16=a.fp16, device=str(device), fastai_types=a.fastai_types, skip=a.skip, **m)
                name, cls = r['impl'], dict(impls)[r['impl']]
                if a.cpu_time: r['cpu_ms'], r['cpu_ms_by_method'] = cpu_time(learn, device, every, cls)
                if a.sync_check and every == 1 and name in IMPLS: r['sync_check'] = sync_check(learn, device, cls)
                if a.host_profile and every == 1 and name in IMPLS: r['host_profile'] = host_profile(learn, device, cls=cls)
                rows.append(r); print(json.dumps(r), flush=True); _save(rows)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    print(f"\nTrainingHealth overhead on {name} (torch {torch.__version__}), median of {a.repeats} repeats")
    print(f"{'case':9s} {'impl':>12s} {'size':>4s} {'fp16':>5s} {'every':>5s} {'steps':>5s} {'without (s)':>11s} {'with (s)':>9s} {'ratio':>6s} {'q1-q3':>11s} {'overhead':>8s} {'cpu ms':>6s} {'syncs':>5s}")
    for r in rows:
        if r['case'] in ('check_graphs', 'sync_check'): continue
        if r.get('mode') == 'blocks':
            print(f"{r['case']:9s} {r['impl']:>12s} {r['size']:4d} {r['fp16']!s:>5s} {r['every']:5d} blocks of {r['block']}, {r['pairs']} pairs: step "
                  f"{r['step_ms_off']:.2f} ms off, {r['step_ms_on']:.2f} ms on; ratio {r['ratio']:.4f} ({r['ratio_q1']:.4f}-{r['ratio_q3']:.4f}), "
                  f"of means {r['ratio_means']:.4f}, of medians {r['ratio_medians']:.4f}: {(r['ratio'] - 1) * 100:.2f}%")
            continue
        print(f"{r['case']:9s} {r['impl']:>12s} {r['size']:4d} {r['fp16']!s:>5s} {r['every']:5d} {r['steps']:5d} {r['base_s']:11.4f} {r['health_s']:9.4f} {r['ratio']:6.3f} "
              f"{r['ratio_q1']:5.3f}-{r['ratio_q3']:5.3f} {(r['ratio'] - 1) * 100:7.1f}% {r.get('cpu_ms', float('nan')):6.2f} {r.get('sync_check', {}).get('syncs', '-')!s:>5s}")
    out = _save(rows)
    if out: print(f"wrote {out}")

if __name__ == '__main__': main()
