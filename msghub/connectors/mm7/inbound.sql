-- name: already_delivered
-- a DeliverReq sent again (same LinkedID and TransactionID) after its answer was lost
SELECT id FROM hub.messages
WHERE connection_id = %(connection_id)s AND operator_ref = %(linked_id)s AND direction = 'in'
  AND meta -> 'mm7' ->> 'transaction_id' = %(transaction_id)s
LIMIT 1
