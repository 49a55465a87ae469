import gc

# young objects collected every 100,000 allocations, as cli.main sets it: from here, so that the
# modules imported before main() runs (the CLI's own, click) are not scanned ~40 times either
gc.set_threshold(100_000, 20, 10)

from .cli import main  # noqa: E402

main()
