"""`recipe audit` and three other checkers on the catalogue of bugs from the wild (`recipe.bugs.BUGS`).

Each tool runs on the buggy learner of every bug it can be applied to and on its fixed twin, the way its README shows:

- recipe: `recipe.bugs.check_bug` (`recipe audit`, plus a fit with `TrainingHealth` for the bugs seen only during training)
- nnc: BlackHC's neural_net_checklist (PyPI `neural-net-checklist`), its seven assertions for a classifier with a
  cross-entropy loss (`assert_all_for_classification_cross_entropy_loss` runs them in a row and stops at the first failure,
  so they run one by one here), on the first training batch and a factory of fresh models; `assert_overfit_to_batch` gets
  16 samples of it (its default 65,536 steps on a whole batch of 64 take many minutes per model on a CPU)
- torcheck (PyPI `torcheck`): trainable parameters must change and frozen ones must not, no NaN or inf in the parameters or
  the outputs, and for classifiers outputs not all in (0, 1), checked at every step of a one-epoch fit with the learner's own
  optimizer, schedule and callbacks
- art: ART (PyPI `art-training`), the README's `CheckLossOnInit` (`CheckScoreCloseTo(loss, log(C), rel_tol=0.01)`) and
  `OverfitOneBatch(number_of_steps=100)` (`CheckScoreLessThan(loss, 0.1)`) steps, each in a project of its own so both run

nnc and art apply to single-input classifiers with a cross-entropy loss (what their READMEs show); torcheck to every learner.
A tool that crashes on both twins does not apply to that bug. A tool detects a bug when one of its checks fails (or it crashes) on the buggy learner; it names the cause when a failing
check maps to a finding the bug's `expect` lists and its message matches that finding's pattern (`recipe.bugs.names_cause`,
with each tool's check mapped to the recipe finding it corresponds to); a failure on the fixed twin is a false alarm.

The peers are benchmark-only dependencies: install them apart from recipe's environment, e.g. in a throwaway venv that
sees recipe's packages (`python -m venv /tmp/peers; echo $PWD/.venv/lib/python3.11/site-packages > /tmp/peers/lib/python3.11/site-packages/dev.pth;
/tmp/peers/bin/pip install --no-deps neural-net-checklist torcheck; /tmp/peers/bin/pip install art-training 'lightning<2.5';
/tmp/peers/bin/pip install --no-deps 'typer>=0.9'`: ART imports `NeptuneLogger`, which lightning 2.5 removed, and pins typer 0.4.2,
with which spaCy, fastai's text tokenizer, cannot be imported).

    python benchmarks/bug_catalogue.py                                   # every bug, every tool that is installed
    python benchmarks/bug_catalogue.py --bugs softmax_before_ce --tools recipe torcheck
    python benchmarks/bug_catalogue.py --json bug_catalogue.json        # also write the rows and the summary
    python benchmarks/bug_catalogue.py --tools recipe --json r.json      # recipe alone (no peers installed needed)...
    python benchmarks/bug_catalogue.py --reuse peers.json r.json        # ...and one table from earlier runs' rows

Writes `$OUT/bug_catalogue.json` when the environment variable OUT is set (or `--json PATH`).
"""
import argparse, contextlib, io, json, logging, math, os, platform, sys, tempfile, time, warnings
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
warnings.filterwarnings('ignore')
import numpy as np, torch
from torch import nn

# ---------------------------------------------------------------- common
def _plain(t): return t.as_subclass(torch.Tensor) if isinstance(t, torch.Tensor) else t

def _classifier_batch(learn):
    "`((x, y), n_classes)` of the first training batch when `learn` is a single-input classifier with a cross-entropy loss, else None"
    from recipe.core import loss_kind
    try: lk = loss_kind(learn)
    except Exception: return None
    if lk != 'ce' or learn.dls.n_inp != 1: return None
    b = learn.dls.train.one_batch()
    x, y = _plain(b[0]).cpu(), _plain(b[1]).cpu()
    if y.ndim != 1 or not x.is_floating_point(): return None
    try:
        with torch.no_grad(): out = learn.model.eval()(x[:2])
    except Exception: return None
    if not isinstance(out, torch.Tensor) or out.ndim != 2: return None
    return (x, y.long()), out.shape[1]

@contextlib.contextmanager
def _quiet():
    "Silence a tool's prints, progress bars and loggers"
    logging.disable(logging.CRITICAL)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): yield
    logging.disable(logging.NOTSET)

def _result(findings, seconds): return dict(findings=findings, seconds=round(seconds, 1))

# ---------------------------------------------------------------- the tools
_NNC = [('loss_at_init', 'loss_at_init'), ('init_calibrated', 'loss_at_init'), ('forward_batch_independence', 'batch_independence'),
        ('non_zero_gradients', 'params_update'), ('backward_batch_independence', 'batch_independence'),
        ('input_independent_baseline_worse', 'input_independent'), ('overfit_to_batch', 'overfit_batch')]

def run_nnc(b, fixed):
    "neural_net_checklist's seven assertions for classifiers with a cross-entropy loss"
    import neural_net_checklist.torch_diagnostics as td
    from recipe.core import Finding
    app = _classifier_batch(b.make(fixed))
    if app is None: return None
    batch, c = app
    factory = lambda: b.make(fixed).model.cpu()
    calls = dict(
        loss_at_init=lambda: td.assert_balanced_classification_cross_entropy_loss_at_init(factory(), batch, num_classes=c, device='cpu'),
        init_calibrated=lambda: td.assert_balanced_classification_cross_entropy_init_calibrated(factory(), batch, num_classes=c, device='cpu'),
        forward_batch_independence=lambda: td.assert_forward_batch_independence(factory, batch, device='cpu'),
        non_zero_gradients=lambda: td.assert_non_zero_gradients(factory(), batch, device='cpu'),
        backward_batch_independence=lambda: td.assert_backward_batch_independence(factory, batch, device='cpu'),
        input_independent_baseline_worse=lambda: td.assert_input_independent_baseline_worse(factory, batch, device='cpu'),
        overfit_to_batch=lambda: td.assert_overfit_to_batch(factory(), batch, device='cpu', batch_size=16))
    t0, fs = time.perf_counter(), []
    for name, same in _NNC:
        try:
            with _quiet(): calls[name]()
            fs.append(Finding(same, 'pass', details=dict(tool_check=name)))
        except AssertionError as e: fs.append(Finding(same, 'fail', advice=f"{name}: {e}".splitlines()[0], details=dict(tool_check=name)))
        except Exception as e: fs.append(Finding(f"{name}_crashed", 'fail', advice=f"{type(e).__name__}: {e}".splitlines()[0]))
    return _result(fs, time.perf_counter() - t0)

def run_torcheck(b, fixed):
    "torcheck's parameter, NaN/inf and (for classifiers) output-range checks during a one-epoch fit"
    from torcheck.registry import Registry
    from fastai.callback.core import Callback
    from recipe.core import Finding
    from recipe.core import loss_kind
    learn = b.make(fixed)
    try: clf = loss_kind(learn) in ('ce', 'bce')
    except Exception: clf = False
    reg = Registry()   # a fresh registry: torcheck's module-level one would accumulate every learner's checks
    model = learn.model
    # torcheck validates inside `optimizer.step` of a torch optimizer; the learner's own (fastai) optimizer does the steps,
    # and a torch optimizer with lr 0 over the same parameters, stepped right after it, carries torcheck's checks
    proxy = torch.optim.SGD([p for p in model.parameters()], lr=0.)
    reg.register(proxy)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    for n, p in model.named_parameters():
        reg.add_tensor(p, n, module_name='model', changing=p.requires_grad, check_nan=True, check_inf=True)
    reg.add_module(model, module_name='model', output_range=(0, 1) if clf else None, negate_range=clf, check_nan=True, check_inf=True)
    class _Probe(Callback):
        order = 99
        def after_step(self): proxy.step()
    t0 = time.perf_counter()
    try:
        with _quiet(), learn.no_bar(), learn.no_logging(): getattr(learn, b.fit)(1, cbs=_Probe())
        fs = [Finding('torcheck', 'pass')]
    except RuntimeError as e:
        msg = str(e)
        if 'should change' in msg or 'should not change' in msg: name = 'params_update'
        elif "shouldn't all" in msg or 'should all' in msg: name = 'loss_at_init'
        elif 'NaN' in msg or 'inf' in msg: name = 'nan_inf'
        else: name = 'torcheck_crashed'
        fs = [Finding(name, 'fail', advice=' '.join(msg.split())[:300])]
    except Exception as e: fs = [Finding('torcheck_crashed', 'fail', advice=f"{type(e).__name__}: {e}".splitlines()[0])]
    return _result(fs, time.perf_counter() - t0)

def _art_project(b, fixed, which, workdir):
    "One ART project with one of the README's steps, on the bug's learner; returns a Finding"
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset
    from art.core import ArtModule
    from art.project import ArtProject
    from art.steps import CheckLossOnInit, OverfitOneBatch
    from art.checks import CheckScoreCloseTo, CheckScoreLessThan
    from art.utils.enums import BATCH, INPUT, LOSS, PREDICTION, TARGET
    from recipe.core import Finding
    learn = b.make(fixed)
    app = _classifier_batch(learn)
    if app is None: return None
    (x, y), c = app
    bs = len(y)
    xs, ys = zip(*[(_plain(bb[0]).cpu(), _plain(bb[1]).cpu().long()) for _, bb in zip(range(4), learn.dls.train)])
    ds = TensorDataset(torch.cat(xs), torch.cat(ys))

    class DM(L.LightningDataModule):
        def setup(self, stage): pass
        def train_dataloader(self): return DataLoader(ds, batch_size=bs)
        def val_dataloader(self): return DataLoader(ds, batch_size=bs)
        def log_params(self): return dict(n=len(ds))

    lr = float(learn.lr) if not isinstance(learn.lr, slice) else 1e-3
    class Wrapped(ArtModule):
        def __init__(self):
            super().__init__()
            self.model = b.make(fixed).model.cpu()
        def parse_data(self, data): return {INPUT: data[BATCH][0], TARGET: data[BATCH][1]}
        def predict(self, data): return {PREDICTION: self.model(data[INPUT]), **data}
        def compute_loss(self, data): return {LOSS: data['CrossEntropyLoss']}
        def configure_optimizers(self): return torch.optim.Adam(self.parameters(), lr=lr)
        def log_params(self): return dict(lr=lr)

    loss_fn = nn.CrossEntropyLoss()
    old = os.getcwd()
    os.chdir(workdir)
    try:
        project = ArtProject(name=f"{b.name}_{'fixed' if fixed else 'buggy'}_{which}", datamodule=DM())
        project.register_metrics([loss_fn])
        if which == 'loss_at_init':
            project.add_step(CheckLossOnInit(Wrapped), checks=[CheckScoreCloseTo(loss_fn, -math.log(1 / c), rel_tol=0.01)])
        else:
            project.add_step(OverfitOneBatch(Wrapped, number_of_steps=100), checks=[CheckScoreLessThan(loss_fn, 0.1)])
        with _quiet(): project.run_all(force_rerun=True, trainer_kwargs=dict(accelerator='cpu', enable_progress_bar=False, enable_model_summary=False))
        step = project.steps[0]['step']
        ok = step.is_successful()
        res = {k: v for k, v in step.get_latest_run().get('scores', {}).items()} if hasattr(step, 'get_latest_run') else {}
        return Finding('loss_at_init' if which == 'loss_at_init' else 'overfit_batch', 'pass' if ok else 'fail',
                       advice='' if ok else f"ART {which}: check failed ({', '.join(f'{k} {v:.4g}' for k, v in res.items() if isinstance(v, float))})")
    except Exception as e: return Finding(f"art_{which}_crashed", 'fail', advice=f"{type(e).__name__}: {e}".splitlines()[0])
    finally: os.chdir(old)

def run_art(b, fixed):
    "ART's README steps: loss on init and overfit one batch"
    import subprocess
    import art.loggers   # it adds a terminal sink when first imported
    from loguru import logger
    if _classifier_batch(b.make(fixed)) is None: return None
    logger.remove()   # ART logs through loguru to the terminal: keep its files, drop the echo
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        # ART records the git commit of the project it runs in: a scratch repository of its own, so nothing is written to this one
        subprocess.run('git init -q && git -c user.name=bench -c user.email=bench@localhost commit -q --allow-empty -m scratch',
                       shell=True, cwd=d, check=True)
        fs = [_art_project(b, fixed, w, d) for w in ('loss_at_init', 'overfit_batch')]
    return _result(fs, time.perf_counter() - t0)

TOOLS = dict(nnc=('neural_net_checklist', run_nnc), torcheck=('torcheck', run_torcheck), art=('art', run_art))

def _installed(mod):
    try: __import__(mod); return True
    except Exception: return False

# ---------------------------------------------------------------- the table
def judge(b, res_buggy, res_fixed):
    "detected / named / false alarm of one tool on one bug"
    from recipe.bugs import names_cause, _alarms
    if res_buggy is None: return None
    crashed = lambda r: r is not None and all(f.name.endswith('_crashed') for f in _alarms(r['findings'])) and _alarms(r['findings'])
    if crashed(res_buggy) and crashed(res_fixed): return None   # the tool cannot run on this kind of learner (e.g. a model returning a tuple)
    hits = _alarms(res_buggy['findings'])
    named = [f for f in hits if names_cause(b, f)]
    alarms = _alarms(res_fixed['findings']) if res_fixed is not None else []
    return dict(detected=bool(hits), named=bool(named), checks=sorted({f.name for f in hits}), named_by=sorted({f.name for f in named}),
                fixed_alarms=sorted({f.name for f in alarms}), seconds=round(res_buggy['seconds'] + (res_fixed or {}).get('seconds', 0), 1),
                messages=[f.advice for f in hits][:3])

def main():
    from recipe.bugs import BUGS, check_bug
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bugs', nargs='+', default=list(BUGS), help='bugs to run (default: the whole catalogue)')
    p.add_argument('--tools', nargs='+', default=['recipe', *TOOLS], help='recipe, nnc, torcheck, art')
    p.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    p.add_argument('--json', default=None)
    p.add_argument('--reuse', nargs='+', default=[], help="JSON files this script wrote: the rows of every tool they hold are taken from them instead of run again")
    a = p.parse_args()
    old, vers = {}, {}
    for path in a.reuse:
        d = json.load(open(path))
        vers.update({k: v for k, v in d.get('meta', {}).get('versions', {}).items() if v})
        for r in d['rows']: old.setdefault(r['bug'], {}).update({k: v for k, v in r.items() if k in ('recipe', *TOOLS)})
    if a.threads: torch.set_num_threads(a.threads)
    reused = lambda t: bool(old) and all(t in old.get(b, {}) for b in a.bugs)
    tools = [t for t in a.tools if t == 'recipe' or _installed(TOOLS[t][0]) or reused(t)]
    for t in set(a.tools) - set(tools): print(f"{t}: not installed, skipped", flush=True)
    rows = []
    print(f"{'bug':32s} " + ' '.join(f"{t:>18s}" for t in tools), flush=True)
    for name in a.bugs:
        b, row = BUGS[name], dict(bug=name, layer=BUGS[name].layer, family=BUGS[name].family)
        for t in tools:
            if t in old.get(name, {}): row[t] = old[name][t]
            elif t == 'recipe':
                r = check_bug(b)
                row[t] = dict(detected=r['detected'], named=r['named'], checks=r['checks'].split(', ') if r['checks'] else [],
                              named_by=r['named_by'].split(', ') if r['named_by'] else [],
                              fixed_alarms=r['fixed_alarms'].split(', ') if r['fixed_alarms'] else [], seconds=r['seconds'])
            else:
                fn = TOOLS[t][1]
                try: row[t] = judge(b, fn(b, False), fn(b, True))
                except Exception as e: row[t] = dict(error=f"{type(e).__name__}: {e}".splitlines()[0])
        rows.append(row)
        cell = lambda r: ('n/a' if r is None else 'error' if 'error' in r else
                          f"{'D' if r['detected'] else '-'}{'N' if r['named'] else '-'}{'F' if r['fixed_alarms'] else '-'} {r['seconds']:6.1f}s")
        print(f"{name:32s} " + ' '.join(f"{cell(row[t]):>18s}" for t in tools), flush=True)
    summary = {}
    for t in tools:
        rs = [r[t] for r in rows if r.get(t) is not None and 'error' not in r[t]]
        n = len(rows)
        summary[t] = dict(applicable=len(rs), detected=sum(r['detected'] for r in rs), named=sum(r['named'] for r in rs),
                          false_alarms=sum(bool(r['fixed_alarms']) for r in rs), seconds=round(sum(r['seconds'] for r in rs), 1),
                          detection_rate=round(sum(r['detected'] for r in rs) / n, 3), naming_rate=round(sum(r['named'] for r in rs) / n, 3),
                          detection_rate_applicable=round(sum(r['detected'] for r in rs) / max(len(rs), 1), 3),
                          naming_rate_applicable=round(sum(r['named'] for r in rs) / max(len(rs), 1), 3))
    print("\nD: detected (a check failed on the buggy learner), N: a failing check named the cause, F: a check failed on the fixed twin")
    print(f"\n{'tool':10s} {'applies to':>10s} {'detected':>9s} {'named':>7s} {'false alarms':>13s} {'seconds':>8s}")
    for t, s in summary.items():
        print(f"{t:10s} {s['applicable']:>4d} of {len(rows):<3d} {s['detection_rate']:>9.0%} {s['naming_rate']:>7.0%} "
              f"{s['false_alarms']:>5d} of {s['applicable']:<5d} {s['seconds']:>8.0f}")
    print("(rates over the whole catalogue; a bug a tool does not apply to counts as missed)")
    out = a.json or (os.path.join(os.environ['OUT'], 'bug_catalogue.json') if os.environ.get('OUT') else None)
    if out:
        meta = dict(date=time.strftime('%Y-%m-%d'), cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                    torch=torch.__version__, threads=torch.get_num_threads(),
                    versions={t: _version(TOOLS[t][0]) or vers.get(t) for t in tools if t != 'recipe'})
        with open(out, 'w') as f: json.dump(dict(meta=meta, summary=summary, rows=rows), f, indent=1, default=str)

def _version(mod):
    from importlib.metadata import version
    try: return version({'neural_net_checklist': 'neural-net-checklist', 'art': 'art-training'}.get(mod, mod))
    except Exception: return None

if __name__ == '__main__': main()
