"""Signed inbound webhooks (WeChat, social media, shop/ERP) and signed outbound webhooks with a delivery log."""
