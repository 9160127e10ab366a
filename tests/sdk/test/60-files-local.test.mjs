// File fields on local storage (pb_data/storage): the shared suite plus the on-disk layout.
import { fileSuite } from '../lib/files-suite.mjs';

fileSuite({ name: 'local', local: true });
