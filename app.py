from designer import create_app

app = create_app()
