// The only bridge between the sandboxed renderer and the main process: one method per action.
import { contextBridge, ipcRenderer } from "electron";
import { IPC, type PiCloudDesktopApi } from "./ipc-contract.js";

const api: PiCloudDesktopApi = {
  storage: () => ipcRenderer.invoke(IPC.storage),
  listConnections: () => ipcRenderer.invoke(IPC.list),
  connectionToken: (id) => ipcRenderer.invoke(IPC.token, id),
  checkConnection: (connection) => ipcRenderer.invoke(IPC.check, connection),
  saveConnection: (connection) => ipcRenderer.invoke(IPC.save, connection),
  removeConnection: (id) => ipcRenderer.invoke(IPC.remove, id),
};

contextBridge.exposeInMainWorld("picloud", api);
