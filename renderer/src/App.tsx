export function App() {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>Tandem</h1>
      <p>Local embeddings, semantic search and cloud offload. The desktop UI arrives with the typed engine contract.</p>
    </main>
  );
}
