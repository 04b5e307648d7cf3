"""Product:Version lookups shared by every service that takes ``versions``."""
VERSIONS_INFO_SQL = """
    SELECT pv.product_name, pv.version_string, pv.major_version, pv.build_type,
           array_remove(array_agg(DISTINCT pvb.build_id ORDER BY pvb.build_id), NULL) AS build_ids
      FROM product_versions pv
      JOIN unnest(%(products)s::text[], %(versions)s::text[]) AS wanted (product, version)
        ON lower(pv.product_name) = lower(wanted.product) AND pv.version_string = wanted.version
      LEFT JOIN product_version_builds pvb USING (product_version_id)
     GROUP BY pv.product_version_id
     ORDER BY pv.product_name, pv.version_sort, pv.version_string
"""


def _known_versions(cursor, pairs):
    """Rows as tuples, whatever kind of cursor the caller holds."""
    with cursor.connection.cursor() as plain:
        plain.execute(VERSIONS_INFO_SQL, {"products": [p for p, _ in pairs],
                                          "versions": [v for _, v in pairs]})
        return plain.fetchall()


def versions_info(cursor, pairs):
    """{'Product:Version': info} for the known pairs among ``pairs`` [(product, version)]."""
    info = {}
    for product, version, major, build_type, build_ids in _known_versions(cursor, pairs):
        info[f"{product}:{version}"] = {
            "product_name": product,
            "version_string": version,
            "major_version": major,
            "release_channel": build_type,
            "build_id": [int(b) for b in build_ids],
        }
    return info


def version_channels(cursor, pairs):
    """{(lower(product), version): product, lower-case channel, major version, build ids}."""
    return {
        (product.lower(), version): {
            "product": product, "channel": (build_type or "").lower(),
            "major_version": major, "build_ids": [str(b) for b in build_ids]}
        for product, version, major, build_type, build_ids in _known_versions(cursor, pairs)
    }
