"""The monthly report leadership reads: its figures (`monthly`), charts (`charts`), page
(`page`), signed links (`links`). Every figure about people comes through the functions that
apply the minimum-group rules (`usage_figures.figures`, `impact_figures.figures`,
`survey_results.released_results`); answer times are counted, never listed."""
