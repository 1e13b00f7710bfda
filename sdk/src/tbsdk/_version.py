"""The SDK API version and the compatibility rule between a component and this SDK."""

from __future__ import annotations

__all__ = ["API_VERSION", "check_api_version", "is_compatible"]

API_VERSION = "1.0"
"""The contract version this SDK serves, ``MAJOR.MINOR``.

A component built for ``M.m`` runs on an SDK ``M.n`` with ``n >= m``: minor versions only add
(new hook parameters, new optional methods, new model fields with defaults). A new major version
may remove or change names, so a component built for another major version is refused.
"""


def _parse(version: str) -> tuple[int, int]:
    parts = version.strip().split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"API version must look like 'MAJOR.MINOR' (e.g. '1.0'), got {version!r}")
    return int(parts[0]), int(parts[1])


def is_compatible(component_version: str, sdk_version: str = API_VERSION) -> bool:
    """True when a component built for ``component_version`` can run on ``sdk_version``."""
    wanted_major, wanted_minor = _parse(component_version)
    major, minor = _parse(sdk_version)
    return wanted_major == major and wanted_minor <= minor


def check_api_version(component: str, component_version: object) -> str | None:
    """Return ``None`` when compatible, else a message naming the component and both versions."""
    if not isinstance(component_version, str):
        return (
            f"{component} does not declare the SDK API version it was built for; "
            f"set api_version = {API_VERSION!r} on the class (or TB_API_VERSION in the module)"
        )
    try:
        ok = is_compatible(component_version)
    except ValueError as exc:
        return f"{component} declares an invalid API version: {exc}"
    if ok:
        return None
    major = API_VERSION.split(".")[0]
    return (
        f"{component} targets SDK API {component_version}, but this host runs SDK API "
        f"{API_VERSION}; install a release of the plugin built for API {major}.x"
    )
