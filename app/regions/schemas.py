from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from app.core.schemas import ResponseModel


class RegionLevel(StrEnum):
    """Level of a region: provinsi, kabupaten (regency) or kota (city)."""

    province = "province"
    regency = "regency"
    city = "city"


class RegionRead(ResponseModel):
    """A Kemendagri region (wilayah)."""

    code: str = Field(description="Kemendagri code, dotted: `33` province, `33.29` regency.")
    name: str
    level: RegionLevel
    parent_code: str | None = Field(description="The province of a regency or city.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "33.29",
                    "name": "Kabupaten Brebes",
                    "level": "regency",
                    "parent_code": "33",
                }
            ]
        }
    )


class RegionDetail(RegionRead):
    """A region with its direct children (the regencies and cities of a province)."""

    children: list[RegionRead]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "33",
                    "name": "Jawa Tengah",
                    "level": "province",
                    "parent_code": None,
                    "children": [
                        {
                            "code": "33.01",
                            "name": "Kabupaten Cilacap",
                            "level": "regency",
                            "parent_code": "33",
                        }
                    ],
                }
            ]
        }
    )
