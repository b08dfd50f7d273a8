"""Import and export: reading SQL, DBML, JSON and live schemas into designs, and writing
designs out as SQL, JSON, DBML and Mermaid. Deploying stays in designer.database."""
