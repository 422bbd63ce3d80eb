"""Authorization at the local gateway, as API Gateway does it for the template's HttpApi:
`contract` (what an authorizer sees and answers), `sigv4` (AWS_IAM), `jwt` (a local
issuer for JWT authorizers), `policy` (which routes need which, banner lines, examples)."""
