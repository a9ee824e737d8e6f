// Prints the schema for tools and for composing a supergraph:
//   npm run schema:print      the API as clients see it (no federation fields)
//   npm run schema:subgraph   this gateway as an Apollo Federation 2 subgraph, as `_service { sdl }` gives it
import { printApiSchema, printSubgraphSchema } from '../src/schema.js';

const subgraph = process.argv.includes('--subgraph');
process.stdout.write(`${subgraph ? await printSubgraphSchema() : printApiSchema()}\n`);
