"""The distributed notebook's correctness checks with the model on a GPU: 2 ranks on CUDA, one process beside them.

`nbs/08_distributed.ipynb` runs its checks on the CPU with gloo. Here the same fit runs with the model and the batches
on a CUDA device, so that the callbacks' combining of records across ranks (`TrainingHealth`'s collectives on CUDA
tensors, its CUDA-graph path, `GrokkingMonitor`, `PredictionDynamics`) is checked on the device it is written for.
Run it with `--backend nccl` on a machine with 2 GPUs. With one GPU both ranks can share it over gloo, but on one H100
that was not meaningful: the ranks did not stay in step even with EMA as the only recipe callback (`--no-health`: the
two ranks' averaged weights differed by 0.12; on the CPU they are bit-identical). `benchmarks/ddp_drift.py` looks for
the cause stage by stage, from plain DDP up.

    python benchmarks/ddp_gpu_check.py
Writes `$OUT/ddp_gpu_check.json` when OUT is set. Exits non-zero when a check fails.
"""
import argparse, json, os, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np, torch
from recipe.distributed import run_ddp

def fit_health(rank, world_size, bs=32, epochs=2, graphs=None, health=True):
    import torch, torch.distributed as dist
    from recipe.core import seed_all, digits_dls, digits_learner
    from recipe.fast_health import FastHealth
    from recipe.baseline import PredictionDynamics
    from recipe.grokking import GrokkingMonitor
    from recipe.squeeze import EMA
    from recipe.distributed import DDPTrainer
    dev = torch.device('cuda', rank % torch.cuda.device_count()) if torch.cuda.is_available() else torch.device('cpu')
    if dev.type == 'cuda': torch.cuda.set_device(dev)
    seed_all(0); learn = digits_learner(digits_dls(bs=bs, num_workers=0, device=dev))
    with torch.no_grad(): learn.model[1].bias[::2] -= 1.5
    th, pdyn, gm, ema = FastHealth(act_sample=None, graphs=graphs), PredictionDynamics(every=5), GrokkingMonitor(every=5), EMA(decay=0.9, final=False)
    cbs = [DDPTrainer()] if world_size > 1 else []
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, cbs=cbs + ([th, pdyn, gm] if health else []) + [ema])
    if not health: return dict(device=str(next(learn.model.parameters()).device), ema=torch.cat([t.flatten() for t in ema.avg]).tolist())
    return dict(device=str(next(learn.model.parameters()).device), graph_steps=th.n_graph_steps, loss=th.loss.tolist(),
                grad=th.grad.tolist(), mean=th.act_mean.tolist(), std=th.act_std.tolist(), dead=th.dead.tolist(),
                epoch_dead=th.epoch_dead.tolist(), preds=None if pdyn.preds is None else pdyn.preds.tolist(),
                grok={k: v.tolist() for k, v in gm.hist.items()}, ema=torch.cat([t.flatten() for t in ema.avg]).tolist())

def main():
    p = argparse.ArgumentParser(); p.add_argument('--backend', default='gloo')
    p.add_argument('--graphs', type=int, default=-1, help='FastHealth(graphs=...): 1, 0, or -1 for the default')
    p.add_argument('--no-health', action='store_true', help='EMA alone: is DDP itself in step on this machine?')
    a = p.parse_args()
    kw = dict(graphs=None if a.graphs < 0 else bool(a.graphs), health=not a.no_health)
    ranks = run_ddp(fit_health, bs=32, backend=a.backend, timeout=300, **kw)
    one = fit_health(0, 1, bs=64, **kw)
    if a.no_health:
        e0, e1, e = (np.array(r['ema']) for r in ranks + [one])
        print(f"EMA alone: ranks equal {np.array_equal(e0, e1)}, largest difference between ranks {np.abs(e0 - e1).max():.1e}, to one process {np.abs(e0 - e).max():.1e}")
        return
    arr = lambda r, k: np.array(r[k], dtype=float)
    checks = {}
    def check(name, ok, detail=''): checks[name] = dict(ok=bool(ok), detail=detail); print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}", flush=True)
    check('on the GPU', all('cuda' in r['device'] for r in ranks + [one]), [r['device'] for r in ranks])
    check('graphs replayed', ranks[0]['graph_steps'] > 0 and one['graph_steps'] > 0, f"{ranks[0]['graph_steps']} and {one['graph_steps']} steps")
    for k in ('loss', 'grad', 'mean', 'std', 'dead', 'epoch_dead', 'ema'):
        check(f'{k}: the same on both ranks', ranks[0][k] == ranks[1][k])
    d = float(np.abs(arr(ranks[0], 'ema') - arr(one, 'ema')).max())
    check('ema: as one process', d < 1e-5, f'largest difference {d:.1e}')
    for k, eps in (('loss', 1e-4), ('grad', 1e-4), ('mean', 1e-4), ('std', 1e-4)):
        d = float(np.nanmax(np.abs(arr(ranks[0], k) - arr(one, k)) / np.maximum(np.abs(arr(one, k)), 1e-3)))
        check(f'{k}: as one process', d < eps, f'largest relative difference {d:.1e}')
    check('dead: as one process', np.array_equal(arr(ranks[0], 'dead'), arr(one, 'dead'), equal_nan=True))
    check('grokking rows: as one process', all(np.allclose(ranks[0]['grok'][k], one['grok'][k], rtol=1e-4, atol=1e-5) for k in one['grok']))
    check('predictions: rank 0 only', ranks[1]['preds'] is None and np.allclose(ranks[0]['preds'], one['preds'], atol=1e-5))
    ok = all(c['ok'] for c in checks.values())
    if os.environ.get('OUT'):
        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'
        Path(os.environ['OUT'], 'ddp_gpu_check.json').write_text(json.dumps(dict(device=name, torch=torch.__version__,
                                                                                backend=a.backend, checks=checks), indent=1))
    print('all checks passed' if ok else 'some checks FAILED'); sys.exit(0 if ok else 1)

if __name__ == '__main__': main()
