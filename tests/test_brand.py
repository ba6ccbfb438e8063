"""Brand images: Home Assistant serves them from the integration's brand/ folder from 2026.3.

Feature detection, as Home Assistant itself does it: a release with the `brands` component
serves our icon from `brand/`; 2026.2 has no such component, and its frontend asks the brands
website, which has no images for a custom integration (the README says what a user sees).
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.loader import IntegrationNotFound, async_get_integration
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.fish_audio_suite.const import DOMAIN

BRAND = Path(__file__).parent.parent / "custom_components" / DOMAIN / "brand"


async def _has_brands_component(hass: HomeAssistant) -> bool:
    try:
        await async_get_integration(hass, "brands")
    except IntegrationNotFound:
        return False
    return True


async def test_brand_images_served_where_supported(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """From 2026.3 every brand image comes from brand/; on 2026.2 nothing serves them."""
    integration = await async_get_integration(hass, DOMAIN)
    if not await _has_brands_component(hass):
        # Home Assistant 2026.2: neither the component nor the loader knows brand/.
        assert not hasattr(integration, "has_branding")
        return
    assert integration.has_branding
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    for image in ("icon.png", "icon@2x.png", "logo.png", "dark_icon.png", "dark_logo@2x.png"):
        response = await client.get(f"/api/brands/integration/{DOMAIN}/{image}")
        assert response.status == 200, image
        assert await response.read() == (BRAND / image).read_bytes()
