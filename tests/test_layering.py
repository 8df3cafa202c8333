import subprocess
import sys


def test_core_imports_neither_textual_nor_rich_nor_the_ui():
    code = (
        "import sys, beicoder.core, beicoder.core.store, beicoder.core.ingest, beicoder.core.dictionary, "
        "beicoder.core.analysis, beicoder.core.export, beicoder.core.study, beicoder.core.suggest.lexicon\n"
        "bad = [m for m in sys.modules\n"
        "       if m.split('.')[0] in ('textual', 'rich') or m in ('beicoder.tui', 'beicoder.cli')]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_help_does_not_load_heavy_libraries():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom beicoder.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\nassert r.exit_code == 0\n"
        "print(','.join(m for m in ('spacy', 'jieba', 'pandas', 'scipy', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
