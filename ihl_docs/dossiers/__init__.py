"""Case dossiers: the PDF a legal team hands over, built reproducibly from the case's records."""

BUILD_JOB = "build_dossier"


def init_app(app) -> None:
    """Pages, the `ihl dossier` command and the build job."""
    from ihl_docs.core.access import can_do_legal_work
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.core.case_records import register_record_part
    from ihl_docs.core.file_modes import register_kept_paths
    from ihl_docs.core.jobs import JobKind, register_job
    from ihl_docs.core.web import CaseSection, register_case_section
    from ihl_docs.dossiers import services
    from ihl_docs.dossiers.commands import dossier_command
    from ihl_docs.dossiers.export_part import PART as RECORD_PART
    from ihl_docs.dossiers.projection import DOSSIER
    from ihl_docs.dossiers.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(dossier_command)
    register_case_section(app, CaseSection(
        "dossiers/_case_section.html",
        lambda session, user, case: {"can_generate": can_do_legal_work(session, user, case)}))
    register_job(app, JobKind(
        name=BUILD_JOB, run=services.run_queued, fail=services.fail_dossier,
        not_queued=services.NOT_QUEUED, fail_interrupted=services.fail_interrupted,
        waiting_since=services.waiting_since))
    register_record_part(app, RECORD_PART)
    register_kept_paths(app, services.kept_cache)
    register_projection(app, DOSSIER)
