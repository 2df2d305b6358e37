// OpenBLAS (or any CBLAS) GEMM through koffi: registers the 'blas' backend loader. Node only.
import { registerBackend } from '../select.js';

registerBackend('blas', () => ({ unavailable: 'the BLAS backend is not built yet' }));
