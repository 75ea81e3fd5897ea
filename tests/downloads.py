"""Reading the CSV downloads of the site in tests."""

import csv
import io


def read_csv(response) -> list[list[str]]:
    """A CSV download's rows; it must start with the UTF-8 BOM Excel needs."""
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))
