"""Local runtime: every route of template.yaml on 127.0.0.1, on moto, without Docker.

Pieces:
    template  reads template.yaml: resources, intrinsic values, event-source mappings
    backend   moto's server in-process, with the template's own tables and queues created in it
    workers   Lambda "containers" as worker processes (one module namespace and environment each)
    apigw     SAM CLI's own local API Gateway (``samcli.local.apigw``), fed by the worker runtime
    pollers   DynamoDB Stream and SQS pollers that invoke stream- and queue-triggered functions
    runtime   wires them together; ``python -m devserver`` runs it
"""
