"""Incidents: filing, editing, the review workflow and search."""


def init_app(app) -> None:
    """Pages, the words the audit log uses for an incident's fields, the case page's section."""
    from ihl_docs.core.audit.history import register_field_labels
    from ihl_docs.core.case_records import register_record_part
    from ihl_docs.core.web import CaseSection, register_case_section
    from ihl_docs.incidents.export_part import PART as RECORD_PART
    from ihl_docs.incidents.facts import harm_text, other_facts
    from ihl_docs.incidents.forms import FIELD_LABELS
    from ihl_docs.incidents.views import bp

    app.register_blueprint(bp)
    register_field_labels(app, "incident", FIELD_LABELS)
    register_case_section(app, CaseSection("incidents/_case_section.html", case_section_values))
    app.jinja_env.globals["other_incident_facts"] = lambda facts: other_facts(facts, FIELD_LABELS)
    app.jinja_env.globals["harm_text"] = harm_text  # the dossier prints harm with it too
    register_record_part(app, RECORD_PART)
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.incidents.projection import INCIDENT

    register_projection(app, INCIDENT)


def case_section_values(session, user, case) -> dict:
    """The first page of the case's incidents, and how many it has."""
    from flask import current_app

    from ihl_docs.incidents.services import IncidentFilter, search_incidents

    incidents, total = search_incidents(session, case, IncidentFilter(),
                                        limit=current_app.config["PAGE_SIZE"])
    return {"incidents": incidents, "incident_total": total}
