"""What makes the rows of a results folder comparable, read from its ledger entries: the data each
configuration was computed on (source and sha256 of the training split, from its config, which the
rows repeat) and the version of the stage that computed it (`sgnlib.config.STAGE_VERSION`).

A ledger entry records its stage version or, where it records none (the cpu, gpu-short and protocol
folders), is dated by its id, which hashes the stage version with the rest of the configuration
(those rows carry no ``stage_version`` column either). Readers use, per stage, one version: the
current one when the folder holds any configuration of it, else the newest it holds (a folder
computed entirely by an older stage, e.g. gpu-short's version-1 captures, is read as it is).
Configurations of any other version are superseded: not read, and listed by `verify`. `merge`
refuses a source that does not match its destination (see `merge_refusal`); a run refuses a folder
holding results on other data of the same kind (images, or the text a language model reads).
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path


def _versions() -> dict:
    from .config import STAGE_VERSION  # imports torch: only for folders of real configurations
    return STAGE_VERSION


def stage_of(entry: dict) -> str | None:
    """The entry's stage when it is one of `sgnlib.config`'s (other code's configurations have
    none)."""
    stage = entry.get("config", {}).get("stage")
    return stage if isinstance(stage, str) and stage in _versions() else None


@functools.lru_cache(maxsize=4096)
def _version_from_id(config_json: str, config_id: str) -> int | None:
    """The stage version whose identity hash ends `config_id` (None if none does)."""
    from .config import Config, ConfigError
    try:
        ident = Config.from_dict(json.loads(config_json)).identity()
    except (ConfigError, TypeError, ValueError, KeyError):
        return None
    for v in range(1, _versions()[ident["stage"]] + 1):
        ident["stage_version"] = v
        text = json.dumps(ident, sort_keys=True, default=list)
        h = hashlib.sha256(text.encode()).hexdigest()[:10]
        if config_id.endswith("-" + h):
            return v
    return None


def version_of(entry: dict) -> int | None:
    """The stage version of a ledger entry: recorded, else the one its id was made with (None if
    unknown)."""
    if isinstance(entry.get("stage_version"), int):
        return entry["stage_version"]
    if stage_of(entry) is None:
        return None
    return _version_from_id(json.dumps(entry["config"], sort_keys=True), entry["config_id"])


def rows_version(tables: dict) -> int | None:
    """The one stage_version text rows carry (None if they carry none or several)."""
    seen = {v for df in tables.values() if "stage_version" in df.columns
            for v in df.stage_version if v != ""}
    return int(seen.pop()) if len(seen) == 1 and next(iter(seen)).isdigit() else None


def read_versions(ledger: dict) -> dict[str, int]:
    """{stage: the version readers use}: the current one if the folder holds it, else the newest
    held."""
    held: dict = {}
    for e in ledger.values():
        v = version_of(e)
        if v is not None and stage_of(e) is not None:
            held.setdefault(stage_of(e), set()).add(v)
    current = _versions() if held else {}
    return {s: current[s] if current[s] in vs else max(vs) for s, vs in held.items()}


def readable(ledger: dict) -> set:
    """Ids whose rows readers use: every configuration but those of a superseded stage version."""
    use = read_versions(ledger)
    return {cid for cid, e in ledger.items()
            if version_of(e) is None or stage_of(e) is None or version_of(e) == use[stage_of(e)]}


def version_lines(folder: Path, ledger: dict) -> list[str]:
    """What `verify` says about stage versions: the versions read (an older one is read when it is
    the only one held), and the superseded configurations, not read."""
    use = read_versions(ledger)
    if not use:
        return []
    current = _versions()
    older = " (older than the current {}; the only one held, so read as it is)"
    parts = [f"{s} {v}" + ("" if v == current[s] else older.format(current[s]))
             for s, v in sorted(use.items())]
    lines = ["stage versions read: " + ", ".join(parts)]
    old = sorted(cid for cid in set(ledger) - readable(ledger))
    if old:
        from .store_check import forget_command
        lines.append(f"superseded: {len(old)} configuration(s) of an older stage version are not "
                     f"read (e.g. {old[0]}); drop them with: {forget_command(folder, old)}")
    return lines


def data_of(config: dict) -> tuple | None:
    """(data source, sha256 of the training split, sha256 of the test split or None for the one
    released with it) of a configuration (None if it names no data)."""
    if config.get("data_source") and config.get("data_sha256"):
        return config["data_source"], config["data_sha256"], config.get("test_sha256")
    return None


def _held(entries) -> set:
    return {d for e in entries if (d := data_of(e.get("config", {})))}


def _data_words(pairs) -> str:
    """'jpeg-mirror data (sha256 f9e11d6283a4…)', with the test split's sha256 when it is not the
    one released with the train split."""
    test = ", test split {}…".format
    return " and ".join(f"{s} data (sha256 {h[:12]}…{test(t[:12]) if t else ''})"
                        for s, h, t in sorted(pairs, key=str))


def data_lines(ledger: dict) -> list[str]:
    held = _held(ledger.values())
    return [f"data: {_data_words(held)}"] if held else []


def _kinds(pairs) -> dict:
    """{kind: data of that kind}: "text" for a text corpus (`sgnlib.text_data.SOURCES`, read by a
    language model), "images" for the rest. A folder holds at most one data of each kind, so a
    preset may run image models and a language model into one folder."""
    from .text_data import SOURCES as TEXT_SOURCES  # imports torch: only for data held or run
    out: dict = {}
    for d in pairs:
        out.setdefault("text" if d[0] in TEXT_SOURCES else "images", set()).add(d)
    return out


def _other_data(held, new) -> tuple | None:
    """(held, new not held) of the first kind where `new` data differ from the `held` ones."""
    held_by, new_by = _kinds(held), _kinds(new)
    for kind, have in held_by.items():
        if new_by.get(kind, set()) - have:
            return have, new_by[kind] - have
    return None


def data_refusal(folder: Path, ledger: dict, configs) -> str | None:
    """Why a run of `configs` (dicts) must not commit into this folder, which holds results on
    other data of the same kind (None if it may)."""
    held, run = _held(ledger.values()), {d for c in configs if (d := data_of(c))}
    other = _other_data(held, run) if held else None
    if other:
        return (f"{folder} holds results computed on {_data_words(other[0])}, this run uses "
                f"{_data_words(other[1])}; their rows are not comparable: give this run another "
                f"folder (--scale NAME)")
    return None


def _rows_data_problem(src: Path, todo: dict, texts: dict) -> str | None:
    """Rows whose data_source/data_sha256 contradict their ledger entry's config."""
    want = {cid: d for cid, e in todo.items() if (d := data_of(e.get("config", {})))}
    for table, df in texts.items():
        if df is None or not want:
            continue
        rows = df[df.config_id.isin(set(want))]
        for i, col in enumerate(("data_source", "data_sha256")):
            if col not in rows:
                continue
            expect = rows.config_id.map(lambda c: want[c][i])
            bad = rows[(rows[col] != "") & (rows[col] != expect)]
            if len(bad):
                cid = bad.config_id.iloc[0]
                return (f"{src}: rows of {cid} in {table} carry {col} {bad[col].iloc[0][:12]} but "
                        f"its ledger entry says {want[cid][i][:12]}: the folder was edited; do not "
                        f"merge it")
    return None


def _version_problem(src: Path, dst: Path, todo: dict, dst_ledger: dict) -> str | None:
    """A configuration of another stage version than `dst` reads (the current one for a stage `dst`
    lacks; an empty `dst` takes any)."""
    use = read_versions(dst_ledger) if dst_ledger else {}
    for cid, e in todo.items():
        v, stage = version_of(e), stage_of(e)
        if v is None or stage is None or not dst_ledger:
            continue
        want = use.get(stage, _versions()[stage])
        if v != want:
            return (f"{src} holds {stage} results of stage version {v} (e.g. {cid}) but {dst} is "
                    f"read at version {want}; rows of different stage versions are not comparable: "
                    f"merge it into a new folder (python -m sgnlib.sweep merge {src} NEW_FOLDER)")
    return None


# provenance and timing columns: code of the same stage version may record more or fewer of them
PROVENANCE_COLUMNS = {"git_commit", "date", "host", "device", "torch_version", "cuda_version",
                      "python_version", "test_source", "test_sha256"}


def _column_problem(src: Path, dst: Path, todo: dict, texts: dict, dst_texts: dict) -> str | None:
    """Rows of a table that lack a result column every `dst` row of the same stage has: written by
    code with other column names (renamed or missing values would read as empty)."""
    for table, df in texts.items():
        have = dst_texts.get(table)
        if df is None or have is None or not len(have) or "stage" not in have:
            continue
        rows = df[df.config_id.isin(set(todo))]
        for stage in (rows.stage.unique() if "stage" in rows else ()):
            ref = have[have.stage == stage]
            need = [c for c in ref.columns if c not in PROVENANCE_COLUMNS
                    and not c.endswith("_s") and (ref[c].astype(str) != "").all()]
            missing = [c for c in need if c not in rows.columns]
            if len(ref) and missing:
                return (f"{src}: its {stage} rows in {table} lack {', '.join(missing[:3])}, which "
                        f"every {stage} row of {dst} has: they were written by code with other "
                        f"columns; migrate the folder (README) or merge it into a new folder "
                        f"(python -m sgnlib.sweep merge {src} NEW_FOLDER)")
    return None


def merge_refusal(src: Path, todo: dict, texts: dict, dst: Path, dst_ledger: dict,
                  dst_texts: dict | None = None) -> str | None:
    """Why the configurations `todo` of `src` (rows in `texts`) must not be merged into `dst` (None
    if they may): other data, rows that contradict their entry, another stage version, result
    columns the destination's rows of that stage all have and these rows lack (`dst_texts`: the
    destination's tables)."""
    src_pairs, dst_pairs = _held(todo.values()), _held(dst_ledger.values())
    other = _other_data(dst_pairs, src_pairs) if src_pairs and dst_pairs else None
    if other:
        return (f"{src} holds results computed on {_data_words(other[1])} but {dst} "
                f"on {_data_words(other[0])}; their rows are not comparable: merge it into a new "
                f"folder (python -m sgnlib.sweep merge {src} NEW_FOLDER)")
    return (_rows_data_problem(src, todo, texts) or _version_problem(src, dst, todo, dst_ledger)
            or _column_problem(src, dst, todo, texts, dst_texts or {}))
