// Parse DBML from stdin with dbdiagram's reference parser (@dbml/core) and print what it read.
const { Parser } = require("@dbml/core");

let source = "";
process.stdin.on("data", (chunk) => { source += chunk; });
process.stdin.on("end", () => {
  try {
    const database = new Parser().parse(source, "dbmlv2");
    const schema = database.schemas[0];
    console.log(JSON.stringify({
      tables: schema.tables.map((t) => t.name).sort(),
      refs: schema.refs.length,
      actions: schema.refs.map((r) => ({ delete: r.onDelete, update: r.onUpdate })),
    }));
  } catch (error) {
    console.log(JSON.stringify(error.diags || String(error)));
    process.exit(1);
  }
});
