#!/usr/bin/env node
// npm run -s asyncapi > asyncapi.json
// Prints the AsyncAPI 3.0 document of the saga's Kafka contract, built from system/contracts.
import { asyncApiDocument } from '@reservex/contracts';

console.log(JSON.stringify(asyncApiDocument(), null, 2));
