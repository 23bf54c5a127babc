"""Federation between autonomous nodes: peers, signing, outbox/inbox, federated queries."""
