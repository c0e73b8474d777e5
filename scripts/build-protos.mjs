#!/usr/bin/env node
// The second step of `npm run build`, after tsc: parses the Envoy API's .proto files once and writes the JSON
// descriptor that the sidecar and the control plane load at run time (src/control/xds/protos.ts).
import { writeFileSync } from 'node:fs';
import { DESCRIPTOR_FILE, envoyDescriptor, parseEnvoyProtos } from '../dist/src/control/xds/protos.js';

writeFileSync(DESCRIPTOR_FILE, JSON.stringify(envoyDescriptor(parseEnvoyProtos())));
