"""Wrong labels: `recipe.labels.find_label_issues` against cleanlab fed by a logistic regression and fastai's top losses.

Plants wrong labels in the training set (2% and 10% relabelled to a random other class, 5% relabelled to the class each
class is most often confused with) on scikit-learn's digits (the recipe's MLP), the zoo's wine table (`tabular_learner`) and
the zoo's generated reviews (an AWD-LSTM), and a generated table of 50,000 rows and 10 classes (`tabular_learner`, 704
batches an epoch, so that a fold's fit is one epoch: the size where the search's time matters; 2% and 10% random only),
and scores the flagged items against the planted ones (precision and recall):

- ours: `find_label_issues(learn)`: 5-fold out-of-fold probabilities of the user's own learner, cleanlab's confident
  learning's calibrated count of wrong labels from them, that many items of lowest probability of their label flagged,
  the probability averaged over the 5 folds' models (and, on the same fits, the ranking by the out-of-fold
  probabilities alone, the plain count as is and times 1.2, and cleanlab's own rule);
- cleanlab + LR: `cleanlab.filter.find_label_issues` on scikit-learn's `cross_val_predict(LogisticRegression(), cv=5)`
  probabilities, on the model's inputs (pixels; table columns with one-hot categories; bag of words for text);
- top losses: fastai's `ClassificationInterpretation.top_losses` after one plain fit of the learner on all the training
  items (the same schedule as one fold), flagging the k items of highest loss, k = the number planted (an oracle k).

Also: the clean data (no planted labels: the estimated noise rate and `check_label_issues`' status), and the seconds of
ours against one plain training epoch.

    python benchmarks/label_issues.py              # every row
    python benchmarks/label_issues.py --quick      # digits only
    python benchmarks/label_issues.py --sizes 10000 50000 200000   # seconds and peak memory per size
    python benchmarks/label_issues.py --families digits text --steps 80   # shorter fold fits (the default: 300 batches)
    python benchmarks/label_issues.py --families digits text --plant-seeds 1 2 3 --steps-list 300 80 --json seeds.json   # other plantings
    python benchmarks/label_issues.py --families digits text tabular --plant-seeds 0 1 2 3 4 5 --steps-list 300 --within-list 0.03 none --json snapshots.json   # with and without snapshots
On a machine with CUDA the learners train there (fastai's default device); the sizes then also report peak GPU memory.

Writes `$OUT/cpu_label_issues.json` (or `--json PATH`).
"""
import argparse, json, os, time, warnings
import numpy as np, torch
warnings.filterwarnings('ignore')

def _prf(flagged, planted):
    f, p = set(int(i) for i in flagged), set(int(i) for i in planted)
    tp = len(f & p)
    return dict(flagged=len(f), precision=round(tp / max(1, len(f)), 3), recall=round(tp / max(1, len(p)), 3))

def family(name):
    "(clean learner factory, learner-from-dls factory, lr for the fits)"
    from recipe.core import digits_learner
    from recipe.zoo import ZOO, _AWD
    if name == 'digits': return digits_learner, lambda dls: digits_learner(dls), None
    if name == 'tabular':
        from fastai.tabular.all import tabular_learner, accuracy
        return ZOO['tabular_classifier'], lambda dls: tabular_learner(dls, layers=[64, 32], metrics=accuracy), None
    if name == 'large':
        from fastai.tabular.all import tabular_learner, accuracy
        return _large, lambda dls: tabular_learner(dls, layers=[200, 100], metrics=accuracy), None
    if name == 'text':
        from fastai.text.all import text_classifier_learner, AWD_LSTM, awd_lstm_clas_config, accuracy
        mk = lambda dls: text_classifier_learner(dls, AWD_LSTM, pretrained=False, config={**awd_lstm_clas_config, **_AWD}, metrics=accuracy)
        return ZOO['text_classifier'], mk, 1e-2
    raise ValueError(name)

def _large(n=50_000, seed=0):
    "A `tabular_learner` on a generated table of `n` rows, 10 classes, 20 columns: about 700 batches an epoch"
    import pandas as pd
    from sklearn.datasets import make_classification
    from fastai.tabular.all import TabularDataLoaders, tabular_learner, Normalize, CategoryBlock, accuracy
    from recipe.core import set_seed
    X, y = make_classification(n, n_features=20, n_informative=12, n_redundant=4, n_classes=10, n_clusters_per_class=1,
                               class_sep=2.0, flip_y=0, random_state=seed)
    df = pd.DataFrame(X, columns=[f'x{i}' for i in range(20)]); df['target'] = y
    set_seed(seed)
    dls = TabularDataLoaders.from_df(df, y_names='target', cont_names=[f'x{i}' for i in range(20)], procs=[Normalize],
                                     y_block=CategoryBlock(), valid_idx=list(range(0, n, 10)), bs=64)
    return tabular_learner(dls, layers=[200, 100], metrics=accuracy)

def features(dls):
    "The model's inputs of every training item as one matrix for a logistic regression"
    from recipe.data import eval_view, _n_inp, _plain
    rows = []
    with eval_view(dls.train) as e:
        for b in e:
            xs = [_plain(o) for o in b[:_n_inp(e)]]
            parts = []
            for x in xs:
                if x.is_floating_point(): parts.append(x.flatten(1).float())
                elif x.ndim == 2 and x.shape[1] > 8:   # token ids: a bag of words
                    parts.append(torch.zeros(len(x), int(len(dls.vocab[0]))).scatter_add_(1, x.long(), torch.ones_like(x, dtype=torch.float)))
                else:   # category codes: one-hot
                    parts += [torch.nn.functional.one_hot(x[:, j].long(), int(x[:, j].max()) + 64).float() for j in range(x.shape[1])]
            rows.append(torch.cat(parts, 1))
    w = max(r.shape[1] for r in rows)
    return torch.cat([torch.nn.functional.pad(r, (0, w - r.shape[1])) for r in rows]).numpy()

def peers(learn, planted, epochs, lr, k_ours=None):
    """cleanlab + logistic regression, and fastai's top losses after a plain fit: its top `len(planted)` (a count
    only the benchmark knows) and its top `k_ours` (as many as ours flagged)"""
    import cleanlab.filter
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.preprocessing import StandardScaler
    from fastai.interpret import ClassificationInterpretation
    from recipe.labels import train_labels
    from recipe.data import eval_view
    y = train_labels(learn.dls)
    X = StandardScaler().fit_transform(features(learn.dls))
    t0 = time.perf_counter()
    p = cross_val_predict(LogisticRegression(max_iter=2000), X, y, cv=5, method='predict_proba')
    lr_flag = np.flatnonzero(cleanlab.filter.find_label_issues(y, p, n_jobs=1))
    res = dict(cleanlab_lr=dict(**_prf(lr_flag, planted), seconds=round(time.perf_counter() - t0, 2)))
    t0 = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
    with eval_view(learn.dls.train) as e:
        interp = ClassificationInterpretation.from_learner(learn, dl=e)
        _, idx = interp.top_losses(max(len(planted), k_ours or 0))
    res['top_losses'] = dict(**_prf(idx.numpy()[:len(planted)], planted), seconds=round(time.perf_counter() - t0, 2))
    if k_ours: res['top_losses_at_our_count'] = _prf(idx.numpy()[:k_ours], planted)
    return res

def plain_epoch(make):
    "Seconds of one plain training epoch of a fresh learner (no validation), after one warm-up epoch"
    from recipe.labels import _NoValidate
    l = make()
    with l.no_bar(), l.no_logging():
        l.fit(1, cbs=_NoValidate())
        t0 = time.perf_counter(); l.fit(1, cbs=_NoValidate()); return time.perf_counter() - t0

def _st(steps): return {} if steps is None else dict(steps=steps)

def run_family(name, noises, steps=None):
    from recipe.labels import plant_label_noise, find_label_issues, cross_val_probs, check_label_issues, train_labels
    clean_mk, mk, lr = family(name)
    base = clean_mk()
    rows = []
    t_epoch = plain_epoch(lambda: mk(base.dls))
    # clean data
    l = mk(base.dls)
    t0 = time.perf_counter(); probs = cross_val_probs(l, lr=lr, **_st(steps)); t = time.perf_counter() - t0
    f = check_label_issues(l, probs=probs)
    rows.append(dict(family=name, noise='none', ours=dict(flagged=f.details['n_flagged'], noise_rate=round(f.details['noise_rate'], 4),
                     status=f.status, seconds=round(t, 1), oof_accuracy=round(float((probs[0].argmax(1) == probs[1]).mean()), 3)),
                     epoch_seconds=round(t_epoch, 3), folds=5, epochs_per_fold=probs[2]['epochs'],
                     ours_over_2_epochs_x_folds=round(t / (2 * t_epoch * 5), 2)))
    print(rows[-1], flush=True)
    for tag, frac, how in noises:
        to = None
        if how == 'confusable':   # each class to the class a logistic regression on the clean data confuses it with most
            from sklearn.linear_model import LogisticRegression
            from sklearn.model_selection import cross_val_predict
            y = train_labels(base.dls); X = features(base.dls)
            pr = cross_val_predict(LogisticRegression(max_iter=2000), (X - X.mean(0)) / (X.std(0) + 1e-6), y, cv=5)
            c = int(y.max()) + 1
            cm = np.zeros((c, c)); np.add.at(cm, (y, pr), 1); np.fill_diagonal(cm, -1)
            to = cm.argmax(1).tolist()
        dls, planted = plant_label_noise(base.dls, frac, to=to, seed=0)
        l = mk(dls)
        t0 = time.perf_counter(); pr = cross_val_probs(l, lr=lr, **_st(steps)); df = find_label_issues(l, probs=pr); t = time.perf_counter() - t0
        row = dict(family=name, noise=tag, planted=len(planted), ours=dict(**_prf(df.index, planted), seconds=round(t, 1),
                   noise_rate=round(df.attrs['noise_rate'], 4)))
        # other counts on the same probabilities: confident learning's plain count (times 1.2, and as is), cleanlab's rule
        for key, kw in (('out_of_fold_ranking', dict(rank_by='out_of_fold')),
                        ('off_diagonal_x1.2', dict(count_method='off_diagonal', count_factor=1.2)),
                        ('off_diagonal', dict(count_method='off_diagonal')), ('cleanlab_rule', dict(count_factor=None))):
            row.setdefault('ours_variants', {})[key] = _prf(find_label_issues(l, probs=pr, **kw).index, planted)
        # our ranking cut at the planted count, as top losses is
        p_given = pr[2]['ensemble'][np.arange(len(pr[1])), pr[1]]
        row['ours_at_planted_count'] = _prf(np.argsort(p_given, kind='stable')[:len(planted)], planted)
        row.update(peers(mk(dls), planted, df.attrs['epochs'], lr, k_ours=len(df)))
        rows.append(row); print(row, flush=True)
    return rows

def _one_size(n):
    "In a fresh process: seconds and peak resident memory of `find_label_issues` on the generated table of `n` rows"
    import resource
    from recipe.labels import find_label_issues
    torch.set_num_threads(1)
    l = _large(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gpu = torch.cuda.is_available()
    if gpu: torch.cuda.reset_peak_memory_stats(); gpu_before = torch.cuda.max_memory_allocated()
    t0 = time.perf_counter(); df = find_label_issues(l); t = time.perf_counter() - t0
    return dict(n=n, seconds=round(t, 1), peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                peak_mb_before=round(before / 1024), epochs_per_fold=df.attrs['epochs'], flagged=len(df),
                device=str(l.dls.device), **(dict(gpu_peak_mb=round(torch.cuda.max_memory_allocated() / 2**20),
                                                  gpu_mb_before=round(gpu_before / 2**20)) if gpu else {}))

def sizes(ns):
    "Time and peak memory per size, each in its own process (peak resident memory of the whole process)"
    import subprocess, sys
    rows = []
    for n in ns:
        code = f"import json, sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); import label_issues as b; print(json.dumps(b._one_size({n})))"
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
        if r.returncode: raise RuntimeError(f"size {n} failed:\n{r.stderr[-3000:]}")
        rows.append(json.loads(r.stdout.strip().splitlines()[-1])); print(rows[-1], flush=True)
    return rows

def seed_study(name, steps_list, seeds, within_list=(0.03,)):
    """2% and 10% random noise planted with each of `seeds`, found with each fold length in `steps_list` and each snapshot
    tolerance in `within_list` (None: each fold's last epoch alone): ours, top losses after a plain fit of the same length
    (k = planted), and cleanlab + LR"""
    from recipe.labels import plant_label_noise, find_label_issues, cross_val_probs
    clean_mk, mk, lr = family(name); base = clean_mk(); rows = []
    for seed in seeds:
        for tag, frac, how in NOISES[:2]:
            dls, planted = plant_label_noise(base.dls, frac, seed=seed)
            for st in steps_list:
                p = None
                for w in within_list:
                    l = mk(dls); t0 = time.perf_counter()
                    pr = cross_val_probs(l, lr=lr, steps=st, within=w); df = find_label_issues(l, probs=pr)
                    row = dict(family=name, seed=seed, noise=tag, steps=st, within=w, epochs=pr[2]['epochs'],
                               snapshots=pr[2]['snapshots'], planted=len(planted), ours=_prf(df.index, planted),
                               seconds=round(time.perf_counter() - t0, 1))
                    p = p or peers(mk(dls), planted, pr[2]['epochs'], lr, k_ours=len(df))
                    row.update(top_losses=p['top_losses'], cleanlab_lr=p['cleanlab_lr'])
                    rows.append(row); print(row, flush=True)
    return rows

def _device(): return torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'  # fastai's default device

NOISES = [('2% random', 0.02, 'random'), ('10% random', 0.10, 'random'), ('5% confusable', 0.05, 'confusable')]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='digits only')
    p.add_argument('--families', nargs='+', default=['digits', 'tabular', 'text', 'large'])
    p.add_argument('--sizes', type=int, nargs='*', help='only time and peak memory on the generated table of these sizes')
    p.add_argument('--steps', type=int, help="`cross_val_probs`' steps (batches a fold's fit takes at least); default: the library's")
    p.add_argument('--plant-seeds', type=int, nargs='*', help="only the seed study: 2% and 10% planted with these seeds, at each --steps-list")
    p.add_argument('--steps-list', type=int, nargs='*', default=[300, 80], help="the seed study's fold lengths")
    p.add_argument('--within-list', nargs='*', default=['0.03'],
                   help="the seed study's snapshot tolerances (`cross_val_probs`' within; 'none': each fold's last epoch alone)")
    p.add_argument('--json', help='where to write the JSON summary')
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    import cleanlab
    if a.sizes:
        res = dict(device=_device(), torch_threads=1, date=time.strftime('%Y-%m-%d'), load_avg=round(os.getloadavg()[0], 1),
                   rows=sizes(a.sizes))
        if a.json:
            with open(a.json, 'w') as f: json.dump(res, f, indent=2)
        return res
    if a.plant_seeds:
        ws = [None if w.lower() == 'none' else float(w) for w in a.within_list]
        rows = sum([seed_study(f, a.steps_list, a.plant_seeds, ws) for f in a.families], [])
        res = dict(device=_device(), torch_threads=1, cleanlab=cleanlab.__version__, date=time.strftime('%Y-%m-%d'), rows=rows)
        if a.json:
            with open(a.json, 'w') as f: json.dump(res, f, indent=1)
        return res
    fams = ['digits'] if a.quick else a.families
    rows = sum([run_family(f, NOISES if f not in ('text', 'large') else NOISES[:2], a.steps) for f in fams], [])
    res = dict(device=_device(), torch_threads=1, cleanlab=cleanlab.__version__, steps=a.steps, date=time.strftime('%Y-%m-%d'),
               load_avg=round(os.getloadavg()[0], 1), top_losses_k='the number of planted items', rows=rows)
    path = a.json or (os.path.join(os.environ['OUT'], 'cpu_label_issues.json') if os.environ.get('OUT') else None)
    if path:
        with open(path, 'w') as f: json.dump(res, f, indent=2)
    return res

if __name__ == '__main__': main()
