"""Every built-in connector keeps the connector contract (one line each)."""

from ingestion.connectors.delighted import DelightedResponsesExport
from ingestion.connectors.freshdesk import FreshdeskTicketExport
from ingestion.connectors.hubspot import HubSpotDealExport
from ingestion.connectors.meta import MetaPageFeed
from ingestion.connectors.shopify import ShopifyOrders
from ingestion.connectors.typeform import TypeformResponses
from ingestion.connectors.wechat import WeChatOfficialAccount
from ingestion.connectors.x_mentions import XMentions
from ingestion.connectors.zendesk import ZendeskTicketEvents
from ingestion.contract import ConnectorContract


class TestZendesk(ConnectorContract, connector=ZendeskTicketEvents): pass  # noqa: E701
class TestFreshdesk(ConnectorContract, connector=FreshdeskTicketExport): pass  # noqa: E701
class TestShopify(ConnectorContract, connector=ShopifyOrders): pass  # noqa: E701
class TestHubSpot(ConnectorContract, connector=HubSpotDealExport): pass  # noqa: E701
class TestTypeform(ConnectorContract, connector=TypeformResponses): pass  # noqa: E701
class TestDelighted(ConnectorContract, connector=DelightedResponsesExport): pass  # noqa: E701
class TestMeta(ConnectorContract, connector=MetaPageFeed): pass  # noqa: E701
class TestXMentions(ConnectorContract, connector=XMentions): pass  # noqa: E701
class TestWeChat(ConnectorContract, connector=WeChatOfficialAccount): pass  # noqa: E701
