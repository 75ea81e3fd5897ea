"""Views of the institution staff blueprint for places: slots, schedules, roster, applications."""
