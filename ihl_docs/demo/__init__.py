"""The illustrative demo case (`ihl demo`): invented places, people and parties."""


def init_app(app) -> None:
    from ihl_docs.demo.cases import demo_command

    app.cli.add_command(demo_command)
