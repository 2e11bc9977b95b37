"""Case dossiers: the PDF a legal team hands over, built reproducibly from the case's records."""
