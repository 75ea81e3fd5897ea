"""Coordinates: GCJ-02 (Chinese map apps) to WGS-84 (GPS), distances, and public precision.

GCJ-02 is the offset datum every map published in China uses (高德, 腾讯); the published
conversion below is the one open-source libraries (e.g. eviltransform) share. Points outside
China are not offset.
"""

import math

#: Krasovsky 1940 ellipsoid, the one the GCJ-02 offset is computed on.
_AXIS = 6378245.0
_ECCENTRICITY_SQUARED = 0.00669342162296594323
#: Mean earth radius in metres, for distances.
EARTH_RADIUS_M = 6_371_008.8
#: The inverse stops once its guess maps back within this many degrees (about 1 mm).
_INVERSE_TOLERANCE = 1e-8
_INVERSE_STEPS = 30


def out_of_china(latitude: float, longitude: float) -> bool:
    """Whether the point lies outside the box where GCJ-02 applies an offset."""
    return not (72.004 <= longitude <= 137.8347 and 0.8293 <= latitude <= 55.8271)


def _offset_latitude(x: float, y: float) -> float:
    """The latitude part of the GCJ-02 offset, in degrees-like units before scaling."""
    result = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    result += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    result += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return result


def _offset_longitude(x: float, y: float) -> float:
    """The longitude part of the GCJ-02 offset, in degrees-like units before scaling."""
    result = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    result += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    result += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return result


def _delta(latitude: float, longitude: float) -> tuple[float, float]:
    """The GCJ-02 offset (degrees of latitude, degrees of longitude) at a WGS-84 point."""
    d_lat = _offset_latitude(longitude - 105.0, latitude - 35.0)
    d_lng = _offset_longitude(longitude - 105.0, latitude - 35.0)
    radians = latitude / 180.0 * math.pi
    magic = 1 - _ECCENTRICITY_SQUARED * math.sin(radians) ** 2
    root = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_AXIS * (1 - _ECCENTRICITY_SQUARED)) / (magic * root) * math.pi)
    d_lng = (d_lng * 180.0) / (_AXIS / root * math.cos(radians) * math.pi)
    return d_lat, d_lng


def wgs84_to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    """The GCJ-02 point a Chinese map app shows for a WGS-84 (GPS) point."""
    if out_of_china(latitude, longitude):
        return latitude, longitude
    d_lat, d_lng = _delta(latitude, longitude)
    return latitude + d_lat, longitude + d_lng


def gcj02_to_wgs84(latitude: float, longitude: float) -> tuple[float, float]:
    """The WGS-84 point of a GCJ-02 point, found by iterating the forward conversion."""
    if out_of_china(latitude, longitude):
        return latitude, longitude
    guess_lat, guess_lng = latitude, longitude
    for _step in range(_INVERSE_STEPS):
        shown_lat, shown_lng = wgs84_to_gcj02(guess_lat, guess_lng)
        error_lat, error_lng = shown_lat - latitude, shown_lng - longitude
        if abs(error_lat) < _INVERSE_TOLERANCE and abs(error_lng) < _INVERSE_TOLERANCE:
            break
        guess_lat, guess_lng = guess_lat - error_lat, guess_lng - error_lng
    return guess_lat, guess_lng


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance in metres between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def snap_to_grid(latitude: float, longitude: float, cell_m: float) -> tuple[float, float]:
    """The centre of the ``cell_m``-metre grid cell holding the point (same cell, same answer)."""
    lat_step = cell_m / (EARTH_RADIUS_M * math.pi / 180)
    row = math.floor(latitude / lat_step)
    centre_lat = (row + 0.5) * lat_step
    # The longitude step follows the row's latitude so that cells stay about square.
    lng_step = lat_step / max(math.cos(math.radians(centre_lat)), 1e-6)
    column = math.floor(longitude / lng_step)
    return centre_lat, (column + 0.5) * lng_step
