"""Lead-file import: readers, preview, jobs and the runner that imports them batch by batch.

See docs/imports.md. Entry points: ``jobs.create_job`` / ``jobs.start_job`` to make and
queue a job, ``runner.run_import`` to run it, ``preview.preview_file`` to look first.
"""
