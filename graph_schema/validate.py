def validate(project):
    return []
