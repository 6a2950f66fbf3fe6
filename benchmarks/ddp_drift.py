"""Do data-parallel ranks stay in step? Two ranks over gloo on one device, from plain PyTorch up to recipe's callbacks.

Each stage trains the same model on two ranks (`run_ddp`), gathers every parameter and buffer from both after each
step, and reports the first step at which the ranks differ and the largest difference at the end:
- `plain`: PyTorch's `DistributedDataParallel` alone (an MLP with BatchNorm, SGD), no fastai;
- `plain_nobn`: the same without BatchNorm (no buffers to keep in step);
- `plain_moved`: the same, wrapped in DDP first and moved to the device afterwards (on the CPU: converted from float64
  to float32): DDP no longer averages the gradients, and the ranks drift from the first step;
- `trainer_unmoved`: the digits `Learner` with `DDPTrainer` as it was before it moved the model to the loaders' device
  first (DDP wrapped the model on the CPU; fastai moved it to the GPU afterwards): on CUDA the gradients are never
  averaged and the ranks drift from the first step, on the CPU nothing moves and they agree;
- `trainer`: fastai's `Learner` on the digits with recipe's `DDPTrainer`, no other callback;
- `ema`, `health`, `dynamics`, `grokking`: `DDPTrainer` and one recipe callback;
- `fastai`: fastai's own `learn.distrib_ctx()` started by `torchrun`, with `TrainingHealth`, `GrokkingMonitor` and `EMA`.
On a GPU both ranks share `cuda:0` (NCCL refuses two ranks on one device; gloo moves CUDA tensors through the host).

    python benchmarks/ddp_drift.py [--device cuda] [--stages plain,trainer,ema]
Writes `$OUT/ddp_drift.json` when OUT is set.
"""
import argparse, json, os, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
from recipe.distributed import run_ddp

def plain(rank, world_size, device='cpu', steps=40, bn=True, sync=False, moved=False):
    "PyTorch's DDP alone: per step, the largest difference of any parameter or buffer between the ranks"
    import torch, torch.nn as nn, torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    dev = torch.device(device)
    torch.manual_seed(0)
    layers = [nn.Linear(64, 128)] + ([nn.BatchNorm1d(128)] if bn else []) + [nn.ReLU(), nn.Linear(128, 10)]
    if moved:  # wrapped first, then moved to the device (on the CPU: converted from float64), as fastai moves a wrapped model
        model = DDP(nn.Sequential(*layers).double() if dev.type == 'cpu' else nn.Sequential(*layers))
        model.to(dev, torch.float32)
    else: model = DDP(nn.Sequential(*layers).to(dev))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(1 + rank)  # each rank its own batches
    diffs = []
    for step in range(steps):
        x, y = torch.randn(32, 64, generator=g).to(dev), torch.randint(0, 10, (32,), generator=g).to(dev)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward()
        if sync and dev.type == 'cuda': torch.cuda.synchronize()
        opt.step()
        def spread(ts):
            v = torch.cat([t.detach().float().flatten() for t in ts])
            out = [torch.zeros_like(v) for _ in range(world_size)]
            dist.all_gather(out, v)
            return float((out[0] - out[1]).abs().max())
        diffs.append(dict(params=spread(model.module.parameters()), grad=spread(p.grad for p in model.parameters()),
                          buffers=spread([b for b in model.module.buffers() if b.is_floating_point()] or [torch.zeros(1, device=dev)])))
    return diffs

def learner_fit(rank, world_size, device='cpu', cb='', epochs=2, unmoved=False):
    "fastai's Learner with recipe's DDPTrainer (and one recipe callback): the ranks' weights after each epoch"
    import torch, torch.distributed as dist
    from fastai.callback.core import Callback
    from recipe.core import seed_all, digits_dls, digits_learner
    from recipe.distributed import DDPTrainer
    dev = torch.device(device)
    seed_all(0); learn = digits_learner(digits_dls(bs=32, num_workers=0, device=dev))
    class Compare(Callback):
        order = 200
        def before_fit(self):
            self.diffs = []
            self.ema = next((c for c in self.learn.cbs if type(c).__name__ == 'EMA'), None)
        def after_backward(self):
            m = getattr(self.model, 'module', self.model)
            s = torch.cat([t.grad.detach().float().flatten() for t in m.parameters()])
            out = [torch.zeros_like(s) for _ in range(world_size)]
            dist.all_gather(out, s)
            self.grad = float((out[0] - out[1]).abs().max())
        def after_batch(self):
            if not self.training: return
            m = getattr(self.model, 'module', self.model)
            s = torch.cat([t.detach().float().flatten() for t in m.parameters()])
            out = [torch.zeros_like(s) for _ in range(world_size)]
            dist.all_gather(out, s)
            d = dict(params=float((out[0] - out[1]).abs().max()), grad=self.grad)
            if self.ema is not None:
                e = torch.cat([t.detach().float().flatten() for t in self.ema.avg])
                out = [torch.zeros_like(e) for _ in range(world_size)]
                dist.all_gather(out, e); d['ema'] = float((out[0] - out[1]).abs().max())
            self.diffs.append(d)
    extra = []
    if cb == 'ema':
        from recipe.squeeze import EMA; extra = [EMA(decay=0.9, final=False)]
    elif cb == 'health':
        from recipe.overfit import TrainingHealth; extra = [TrainingHealth()]
    elif cb == 'health_plain':
        from recipe.overfit import TrainingHealth; extra = [TrainingHealth(fast=False)]
    elif cb == 'dynamics':
        from recipe.baseline import PredictionDynamics; extra = [PredictionDynamics(every=5)]
    elif cb == 'grokking':
        from recipe.grokking import GrokkingMonitor; extra = [GrokkingMonitor(every=5)]
    trainer = DDPTrainer()
    if unmoved:  # DDPTrainer as it was before it moved the model: DDP wraps the model while it is on the CPU
        class Unmoved(DDPTrainer):
            def before_fit(self):
                from recipe.distributed import shard_dl
                from torch.nn.parallel import DistributedDataParallel as DDP
                self.old_dl = self.dls.loaders[0]; self.dls.loaders[0] = shard_dl(self.old_dl)
                self.learn.model = DDP(self.learn.model)
        trainer = Unmoved()
    cmp = Compare()
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, cbs=[trainer, cmp] + extra)
    return cmp.diffs

FASTAI = r"""
import os, sys, json, torch, torch.distributed as dist
os.environ['LOCAL_RANK'] = '0'  # one GPU: both ranks on cuda:0 (accelerate picks the device from LOCAL_RANK)
from fastai.callback.core import Callback
from fastai.distributed import DistributedDL
from accelerate.utils import InitProcessGroupKwargs
from recipe.all import *
dev = sys.argv[1]
if dev == 'cpu':
    def _broadcast(self, t, rank):
        t = torch.LongTensor(t); dist.broadcast(t, rank); return t.tolist()
    DistributedDL._broadcast = _broadcast
class Compare(Callback):
    order = 200
    def before_fit(self): self.diffs = []
    def after_batch(self):
        if not self.training: return
        out = {}
        for k, ts in (('params', list(self.model.parameters())), ('ema', getattr(ema, 'avg', None) or [])):
            if not ts: continue
            v = torch.cat([t.detach().float().flatten() for t in ts])
            o = [torch.zeros_like(v) for _ in range(2)]; dist.all_gather(o, v)
            out[k] = float((o[0] - o[1]).abs().max())
        self.diffs.append(out)
seed_all(0); learn = digits_learner(digits_dls(bs=32, num_workers=0, device=torch.device(dev)))
ema, cmp = EMA(decay=0.9, final=False), Compare()
kw = dict(cpu=True) if dev == 'cpu' else dict(kwargs_handlers=[InitProcessGroupKwargs(backend='gloo')])
with learn.distrib_ctx(**kw), learn.no_bar(): learn.fit(2, cbs=[TrainingHealth(), GrokkingMonitor(every=5), ema, cmp])
if dist.get_rank() == 0: print('DIFFS', json.dumps(cmp.diffs), flush=True)
"""

def fastai_stage(device):
    "fastai's distrib_ctx under torchrun, 2 processes: per step, the ranks' largest weight and EMA differences"
    import subprocess, tempfile
    from recipe.distributed import free_port
    with tempfile.TemporaryDirectory() as d:
        (Path(d)/'train.py').write_text(FASTAI)
        env = {k: v for k, v in os.environ.items() if k not in ('WORLD_SIZE', 'RANK', 'LOCAL_RANK')}
        p = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={free_port()}',
                            str(Path(d)/'train.py'), device], capture_output=True, text=True, timeout=300, env=env, cwd=d)
    line = next((l for l in p.stdout.splitlines() if l.startswith('DIFFS ')), None)
    if line is None:  # the first rank's traceback, not torchrun's summary
        err = p.stdout + p.stderr
        raise RuntimeError(err[err.find('Traceback'):][:3000] if 'Traceback' in err else err[-3000:])
    diffs = json.loads(line[6:])
    return {k: summary([d.get(k, 0.) for d in diffs]) for k in diffs[0]}

def summary(diffs, key=None):
    vals = [d[key] if key else d for d in diffs]
    first = next((i for i, v in enumerate(vals) if v > 0), None)
    return dict(steps=len(vals), first_step_differing=first, max_diff_end=vals[-1] if vals else None, max_diff=max(vals or [0]))

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--stages', default='plain,plain_sync,plain_nobn,plain_moved,trainer_unmoved,trainer,ema,health,health_plain,dynamics,grokking,fastai')
    a = p.parse_args()
    res = dict(device=torch.cuda.get_device_name() if a.device == 'cuda' else 'cpu', torch=torch.__version__, stages={})
    for st in a.stages.split(','):
        try:
            if st == 'fastai': out = fastai_stage(a.device)
            elif st.startswith('plain'):
                r = run_ddp(plain, device=a.device, bn=st not in ('plain_nobn', 'plain_moved'), sync=st == 'plain_sync',
                            moved=st == 'plain_moved', timeout=300)
                out = {k: summary(r[0], k) for k in ('params', 'grad', 'buffers')}
            else:
                r = run_ddp(learner_fit, device=a.device, cb='' if st.startswith('trainer') else st,
                            unmoved=st == 'trainer_unmoved', timeout=300)
                out = {k: summary(r[0], k) for k in r[0][0]}
        except Exception as e: out = dict(error=f"{type(e).__name__}: {e}")
        res['stages'][st] = out
        print(st, json.dumps(out), flush=True)
    if os.environ.get('OUT'):
        Path(os.environ['OUT']).mkdir(parents=True, exist_ok=True)
        (Path(os.environ['OUT'])/'ddp_drift.json').write_text(json.dumps(res, indent=1))

if __name__ == '__main__': main()
