import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/client';
import { ApiProvider } from './api/hooks';
import { pickTransport } from './api/transport';
import { App } from './app/App';
import 'uplot/dist/uPlot.min.css';
import './app/styles.css';

const client = createApiClient(pickTransport());
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ApiProvider client={client}>
        <App />
      </ApiProvider>
    </StrictMode>,
  );
}
