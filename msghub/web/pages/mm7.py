"""The inbound MM7 route: an MMSC POSTs DeliverReq, DeliveryReportReq and
ReadReplyReq to /mm7/<connection name> (no session: the MMSC authenticates
with the connection's inbound_* settings)."""

from starlette.routing import Route

from msghub.connectors.mm7.inbound import mm7_endpoint

routes = [Route("/mm7/{connection}", mm7_endpoint, methods=["POST"])]
